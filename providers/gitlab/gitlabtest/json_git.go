package gitlabtest

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// commitJSON is GitLab's Commit entity, an item of GET
// /projects/:id/repository/commits and the commit of a branch or tag. The
// single-commit GET adds stats, status and last_pipeline; the list never
// has them.
type commitJSON struct {
	ID               string              `json:"id"`
	ShortID          string              `json:"short_id"`
	CreatedAt        gitTime             `json:"created_at"`
	ParentIDs        []string            `json:"parent_ids"`
	Title            string              `json:"title"`
	Message          string              `json:"message"`
	AuthorName       string              `json:"author_name"`
	AuthorEmail      string              `json:"author_email"`
	AuthoredDate     gitTime             `json:"authored_date"`
	CommitterName    string              `json:"committer_name"`
	CommitterEmail   string              `json:"committer_email"`
	CommittedDate    gitTime             `json:"committed_date"`
	Trailers         map[string]string   `json:"trailers"`
	ExtendedTrailers map[string][]string `json:"extended_trailers"`
	WebURL           string              `json:"web_url"`
}

// commitEmail stands in for the address GitLab would show; the corpus
// only has hashes.
func commitEmail(hash string) string { return hash + "@users.noreply.gitlab.com" }

// commitJSON encodes cm of the project at full path. Trailers are parsed
// only when asked for (trailers=true), as on GitLab; otherwise both maps
// are empty.
func (s *Server) commitJSON(full string, cm corpus.Commit, withTrailers bool) commitJSON {
	parents := cm.Parents
	if parents == nil {
		parents = []string{}
	}
	j := commitJSON{
		ID:               cm.SHA,
		ShortID:          cm.SHA[:min(11, len(cm.SHA))],
		CreatedAt:        gitTime(cm.CommitterDate),
		ParentIDs:        parents,
		Title:            commitTitle(cm.Message),
		Message:          cm.Message,
		AuthorName:       cm.AuthorName,
		AuthorEmail:      commitEmail(cm.AuthorEmailHash),
		AuthoredDate:     gitTime(cm.AuthorDate),
		CommitterName:    cm.CommitterName,
		CommitterEmail:   commitEmail(cm.CommitterEmailHash),
		CommittedDate:    gitTime(cm.CommitterDate),
		Trailers:         map[string]string{},
		ExtendedTrailers: map[string][]string{},
		WebURL:           s.web + "/" + full + "/-/commit/" + cm.SHA,
	}
	if withTrailers {
		for _, kv := range parseTrailers(cm.Message) {
			j.Trailers[kv[0]] = kv[1]
			j.ExtendedTrailers[kv[0]] = append(j.ExtendedTrailers[kv[0]], kv[1])
		}
	}
	return j
}

// commitTitle is GitLab's Commit#title: the first line of the message,
// cut to 80 characters at a word boundary plus "…" when it has 100 or
// more (Rails' truncate(81, separator: ' ', omission: '…')).
func commitTitle(msg string) string {
	title, _, _ := strings.Cut(msg, "\n")
	title = strings.TrimRight(title, "\r")
	if utf8.RuneCountInString(title) < 100 {
		return title
	}
	r := []rune(title)
	stop := 80
	if i := strings.LastIndex(string(r[:stop+1]), " "); i >= 0 {
		stop = utf8.RuneCountInString(string(r[:stop+1])[:i])
	}
	return string(r[:stop]) + "…"
}

var trailerLine = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9-]*): (.+)$`)

// parseTrailers reads the trailer block of msg as `git interpret-trailers
// --parse` does in the common cases: the last paragraph counts when all
// of its lines are "Key: value" trailers, or when it holds a git-generated
// line (Signed-off-by, "(cherry picked from commit") and at least a
// quarter of its lines are trailers.
func parseTrailers(msg string) [][2]string {
	paras := strings.Split(strings.TrimRight(msg, "\n"), "\n\n")
	if len(paras) < 2 {
		return nil
	}
	lines := strings.Split(strings.Trim(paras[len(paras)-1], "\n"), "\n")
	var out [][2]string
	generated := false
	for _, l := range lines {
		if m := trailerLine.FindStringSubmatch(l); m != nil {
			out = append(out, [2]string{m[1], strings.TrimSpace(m[2])})
			if m[1] == "Signed-off-by" {
				generated = true
			}
		} else if strings.HasPrefix(l, "(cherry picked from commit ") {
			generated = true
		}
	}
	if len(out) == len(lines) || (generated && 4*len(out) >= len(lines)) {
		return out
	}
	return nil
}

// branchJSON is an item of GET /projects/:id/repository/branches.
type branchJSON struct {
	Name               string     `json:"name"`
	Commit             commitJSON `json:"commit"`
	Merged             bool       `json:"merged"`
	Protected          bool       `json:"protected"`
	DevelopersCanPush  bool       `json:"developers_can_push"`
	DevelopersCanMerge bool       `json:"developers_can_merge"`
	CanPush            bool       `json:"can_push"`
	Default            bool       `json:"default"`
	WebURL             string     `json:"web_url"`
}

// branchJSON encodes a branch. The default branch is protected, as GitLab
// protects it by default; merged means the head is reachable from the
// default branch.
func (s *Server) branchJSON(snap *projectSnapshot, name string, merged map[string]bool) branchJSON {
	sha := snap.branches[name]
	cm, _ := snap.history.Commit(sha)
	cm.SHA = sha
	isDefault := name == snap.p.DefaultBranch
	return branchJSON{
		Name:      name,
		Commit:    s.commitJSON(snap.fullPath(), cm, false),
		Merged:    !isDefault && merged[sha],
		Protected: isDefault,
		CanPush:   false,
		Default:   isDefault,
		WebURL:    s.web + "/" + snap.fullPath() + "/-/tree/" + treePath(name),
	}
}

// treePath is a ref name as GitLab's project_tree_url writes it: each
// "/"-separated segment escaped, the slashes kept.
func treePath(name string) string {
	segs := strings.Split(name, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

// tagJSON is an item of GET /projects/:id/repository/tags. The corpus
// keeps only the peeled commit, so every tag looks lightweight: target is
// the commit, message and created_at are null.
type tagJSON struct {
	Commit    commitJSON `json:"commit"`
	Release   *struct{}  `json:"release"`
	Name      string     `json:"name"`
	Target    string     `json:"target"`
	Message   *string    `json:"message"`
	Protected bool       `json:"protected"`
	CreatedAt *string    `json:"created_at"`
}

func (s *Server) tagJSON(snap *projectSnapshot, name string) tagJSON {
	sha := snap.tags[name]
	cm, _ := snap.history.Commit(sha)
	cm.SHA = sha
	return tagJSON{Commit: s.commitJSON(snap.fullPath(), cm, false), Name: name, Target: sha}
}
