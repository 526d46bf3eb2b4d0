package corpus

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PullRequest is a pull request synthesized from a merge commit's message.
type PullRequest struct {
	Number         int
	Title          string
	Body           string
	HeadBranch     string
	HeadUser       string
	BaseBranch     string
	State          string // always "merged": the corpus only records merged work
	MergeCommitSHA string
	CreatedAt      time.Time // the commit's author date
	UpdatedAt      time.Time // the commit's committer date
	MergedAt       time.Time // the commit's committer date
}

// StateMerged is the State of every synthesized pull request.
const StateMerged = "merged"

var (
	// closesLine is the line ZooKeeper's merge script (and Apache's
	// GitHub PR tooling) appends: "Closes #1234 from user/branch", in
	// older commits followed by " and squashes the following commits:".
	closesLine = regexp.MustCompile(`^Closes #(\d+) from (\S+)`)
	// bareCloses is any "Closes #N" line, a trailer in the body too.
	bareCloses = regexp.MustCompile(`^Closes #\d+\b`)
	// squashLine is one entry of the list that follows "and squashes the
	// following commits:", e.g. "067edf6a [Norbert Kalmar] fix log".
	squashLine = regexp.MustCompile(`^[0-9a-f]{7,40} \[[^\]]*\] `)
	// cherryLine is what `git cherry-pick -x` appends.
	cherryLine = regexp.MustCompile(`^\(cherry picked from commit [0-9a-f]+\)$`)
)

// trailerKeys are the "Key: value" lines that the merge tooling, Gerrit or
// git itself appends; they are metadata, not part of a description.
var trailerKeys = []string{
	"Author", "Reviewers", "Reviewed-by", "Signed-off-by", "Co-authored-by",
	"Acked-by", "Tested-by", "Change-Id", "git-svn-id",
}

// PullRequests synthesizes the pull requests recorded in commit messages,
// sorted by number.
//
// Each commit on some branch whose message has a line
// "Closes #N from user/branch" (the last one if there are several, as in
// squashed backports) yields pull request N: Title is the
// subject, Body the rest of the message without trailer lines (the Closes
// lines and the squash list, Author:/Reviewers:/Signed-off-by:/... lines,
// "(cherry picked from commit ...)"), HeadUser "user" and HeadBranch the rest
// after the first "/" verbatim, BaseBranch "master" if master contains the
// commit, else "main", else the first branch by name that does. Closes lines
// without "from user/branch" are ignored, as are commits reachable only
// from tags. When N occurs in several commits (cherry-picks to release
// branches) the commit with the newest committer date wins.
//
// The result is computed once per History and copied on each call.
func (h *History) PullRequests() []PullRequest {
	h.pullsOnce.Do(func() { h.pulls = h.synthesizePulls() })
	return slices.Clone(h.pulls)
}

func (h *History) synthesizePulls() []PullRequest {
	type found struct {
		idx          int
		number       int
		user, branch string
	}
	var hits []found
	for i, c := range h.commits {
		if !strings.Contains(c.Message, "Closes #") {
			continue
		}
		// A backport squashes the original message, Closes line included,
		// and the merge script appends its own: the last line is the pull
		// request this commit merged.
		var hit *found
		for _, line := range strings.Split(c.Message, "\n") {
			m := closesLine.FindStringSubmatch(strings.TrimSpace(line))
			if m == nil {
				continue
			}
			n, err := strconv.Atoi(m[1])
			user, branch, ok := strings.Cut(m[2], "/")
			if err != nil || !ok || user == "" || branch == "" {
				continue
			}
			hit = &found{idx: i, number: n, user: user, branch: branch}
		}
		if hit != nil {
			hits = append(hits, *hit)
		}
	}
	if len(hits) == 0 {
		return nil
	}

	// Branch reachability, in preference order.
	order := slices.Clone(h.branches)
	rank := func(name string) int {
		switch name {
		case "master":
			return 0
		case "main":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(order, func(a, b Ref) int { return rank(a.Name) - rank(b.Name) })
	reach := make([][]bool, len(order))
	for i, b := range order {
		reach[i] = h.reach(b.SHA)
	}

	byNumber := make(map[int]PullRequest)
	for _, f := range hits {
		base := ""
		for bi, b := range order {
			if reach[bi][f.idx] {
				base = b.Name
				break
			}
		}
		if base == "" {
			continue
		}
		c := h.commits[f.idx]
		if prev, ok := byNumber[f.number]; ok && !c.CommitterDate.After(prev.MergedAt) {
			continue
		}
		byNumber[f.number] = PullRequest{
			Number:         f.number,
			Title:          c.Subject(),
			Body:           pullBody(c.Message),
			HeadBranch:     f.branch,
			HeadUser:       f.user,
			BaseBranch:     base,
			State:          StateMerged,
			MergeCommitSHA: c.SHA,
			CreatedAt:      c.AuthorDate,
			UpdatedAt:      c.CommitterDate,
			MergedAt:       c.CommitterDate,
		}
	}
	out := make([]PullRequest, 0, len(byNumber))
	for _, p := range byNumber {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b PullRequest) int { return a.Number - b.Number })
	return out
}

// pullBody is the message after the subject line with trailer lines
// removed, runs of blank lines collapsed and surrounding blank lines
// trimmed.
func pullBody(msg string) string {
	_, rest, _ := strings.Cut(msg, "\n")
	var out []string
	squash := false
	for _, line := range strings.Split(rest, "\n") {
		line = strings.TrimRight(line, "\r \t")
		switch {
		case bareCloses.MatchString(line):
			squash = strings.HasSuffix(line, "squashes the following commits:")
			continue
		case squash && squashLine.MatchString(line):
			continue
		case cherryLine.MatchString(line), isTrailer(line):
			continue
		}
		if line != "" {
			squash = false
		}
		if line == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, line)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

func isTrailer(line string) bool {
	key, _, ok := strings.Cut(line, ": ")
	return ok && slices.Contains(trailerKeys, key)
}
