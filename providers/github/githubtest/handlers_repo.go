package githubtest

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

func (s *Server) getRepo(c *call, snap *repoSnapshot) response {
	return fakeserver.JSON(http.StatusOK, s.repoJSON(c, snap.info(), true))
}

// listBranches serves GET .../branches, sorted by name like GitHub.
func (s *Server) listBranches(c *call, snap *repoSnapshot) response {
	names := sortedKeys(snap.branches)
	if p := c.r.URL.Query().Get("protected"); p == "true" {
		names = nil // the fake protects nothing
	}
	page, link := paginate(c, names, repoListBase(c, snap, "/branches"))
	items := make([]branchJSON, 0, len(page))
	for _, n := range page {
		items = append(items, s.branchJSON(c, snap.repo, n, snap.branches[n]))
	}
	return listResponse(items, link)
}

func (s *Server) getBranch(c *call, snap *repoSnapshot) response {
	name := c.r.PathValue("branch")
	sha, ok := snap.branches[name]
	if !ok {
		return fakeserver.JSON(http.StatusNotFound, basicError{"Branch not found", "https://docs.github.com/rest/branches/branches#get-a-branch"})
	}
	return fakeserver.JSON(http.StatusOK, s.branchJSON(c, snap.repo, name, sha))
}

// listTags serves GET .../tags in descending name order, as GitHub lists
// them (newest-looking names first, by plain string comparison).
func (s *Server) listTags(c *call, snap *repoSnapshot) response {
	names := sortedKeys(snap.tags)
	slices.Reverse(names)
	page, link := paginate(c, names, repoListBase(c, snap, "/tags"))
	items := make([]tagJSON, 0, len(page))
	for _, n := range page {
		items = append(items, s.tagJSON(c, snap.repo, n, snap.tags[n]))
	}
	return listResponse(items, link)
}

// listCommits serves GET .../commits: the history reachable from sha (a
// branch, tag or commit SHA; default the default branch) in `git log`
// order, optionally limited by since/until on the committer date.
// author, committer and path filters are ignored.
func (s *Server) listCommits(c *call, snap *repoSnapshot) response {
	const doc = "https://docs.github.com/rest/commits/commits#list-commits"
	q := c.r.URL.Query()
	ref := cmp.Or(q.Get("sha"), snap.repo.DefaultBranch)
	if snap.history.Len() == 0 {
		return fakeserver.JSON(http.StatusConflict, basicError{"Git Repository is empty.", doc})
	}
	head, ok := resolveRef(snap, ref)
	if !ok {
		return fakeserver.JSON(http.StatusNotFound, basicError{"No commit found for SHA: " + ref, doc})
	}
	shas := s.histories.Log(snap.history, head)
	since, sinceErr := parseTimeParam(q.Get("since"))
	until, untilErr := parseTimeParam(q.Get("until"))
	if sinceErr != nil || untilErr != nil {
		return fakeserver.JSON(http.StatusUnprocessableEntity, basicError{"Invalid time", doc})
	}
	if !since.IsZero() || !until.IsZero() {
		var kept []string
		for _, sha := range shas {
			cm, _ := snap.history.Commit(sha)
			if (since.IsZero() || !cm.CommitterDate.Before(since)) && (until.IsZero() || !cm.CommitterDate.After(until)) {
				kept = append(kept, sha)
			}
		}
		shas = kept
	}
	page, link := paginate(c, shas, repoListBase(c, snap, "/commits"))
	items := make([]commitJSON, 0, len(page))
	for _, sha := range page {
		cm, _ := snap.history.Commit(sha)
		items = append(items, s.commitJSON(c, snap, cm))
	}
	return listResponse(items, link)
}

func parseTimeParam(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, v)
}

// resolveRef resolves a branch, a tag, a full SHA or a unique SHA prefix of
// at least 7 hex digits.
func resolveRef(snap *repoSnapshot, ref string) (string, bool) {
	return fakeserver.ResolveRef(snap.history, snap.branches, snap.tags, ref, 7)
}

// listPulls serves GET .../pulls with state (default open), head, base,
// sort (created, updated; popularity and long-running fall back to
// created) and direction (default desc).
func (s *Server) listPulls(c *call, snap *repoSnapshot) response {
	q := c.r.URL.Query()
	state := cmp.Or(q.Get("state"), "open")
	base, head := q.Get("base"), q.Get("head")
	var pulls []PullRequest
	for _, p := range snap.pulls {
		if state != "all" && string(p.State) != state {
			continue
		}
		if base != "" && p.BaseRef != base {
			continue
		}
		if head != "" {
			owner, ref, ok := strings.Cut(head, ":")
			headOwner := cmp.Or(p.HeadOwner, p.User)
			if !ok || !strings.EqualFold(owner, headOwner) || ref != p.HeadRef {
				continue
			}
		}
		pulls = append(pulls, p)
	}
	key := func(p PullRequest) time.Time { return p.CreatedAt }
	if q.Get("sort") == "updated" {
		key = func(p PullRequest) time.Time { return p.UpdatedAt }
	}
	desc := q.Get("direction") != "asc"
	slices.SortFunc(pulls, func(a, b PullRequest) int {
		r := cmp.Or(key(a).Compare(key(b)), cmp.Compare(a.Number, b.Number))
		if desc {
			return -r
		}
		return r
	})
	page, link := paginate(c, pulls, repoListBase(c, snap, "/pulls"))
	items := make([]pullJSON, 0, len(page))
	for _, p := range page {
		items = append(items, s.pullJSON(c, snap, p))
	}
	return listResponse(items, link)
}

func (s *Server) getPull(c *call, snap *repoSnapshot) response {
	n, err := strconv.Atoi(c.r.PathValue("number"))
	if err != nil {
		return notFound()
	}
	for _, p := range snap.pulls {
		if p.Number == n {
			return fakeserver.JSON(http.StatusOK, s.pullDetailJSON(c, snap, p))
		}
	}
	return notFound()
}

// The handlers below model endpoints jiralinkd must never call. They answer
// like GitHub would, with made-up file data, and mark the request.

type fileJSON struct {
	SHA       string `json:"sha"`
	Filename  string `json:"filename"`
	Status    string `json:"status"`
	Additions int    `json:"additions"`
	Deletions int    `json:"deletions"`
	Changes   int    `json:"changes"`
	Patch     string `json:"patch"`
}

var fakeFile = fileJSON{
	SHA: fakeSHA("blob"), Filename: "README.md", Status: "modified",
	Additions: 1, Deletions: 1, Changes: 2, Patch: "@@ -1 +1 @@\n-old\n+new",
}

func (s *Server) getCommit(c *call, snap *repoSnapshot) response {
	sha, ok := resolveRef(snap, c.r.PathValue("ref"))
	cm, found := snap.history.Commit(sha)
	if !ok || !found {
		return fakeserver.Forbidden(fakeserver.JSON(http.StatusUnprocessableEntity, basicError{"No commit found for SHA: " + c.r.PathValue("ref"), "https://docs.github.com/rest/commits/commits#get-a-commit"}))
	}
	type stats struct {
		Total     int `json:"total"`
		Additions int `json:"additions"`
		Deletions int `json:"deletions"`
	}
	return fakeserver.Forbidden(fakeserver.JSON(http.StatusOK, struct {
		commitJSON
		Stats stats      `json:"stats"`
		Files []fileJSON `json:"files"`
	}{s.commitJSON(c, snap, cm), stats{2, 1, 1}, []fileJSON{fakeFile}}))
}

func (s *Server) pullFiles(c *call, snap *repoSnapshot) response {
	return fakeserver.Forbidden(fakeserver.JSON(http.StatusOK, []fileJSON{fakeFile}))
}

func (s *Server) contents(c *call, snap *repoSnapshot) response {
	name := cmp.Or(c.r.PathValue("path"), "README.md")
	return fakeserver.Forbidden(fakeserver.JSON(http.StatusOK, map[string]any{
		"type": "file", "encoding": "base64", "size": 4, "name": name, "path": name,
		"content": base64.StdEncoding.EncodeToString([]byte("fake")), "sha": fakeSHA("blob", name),
	}))
}

func (s *Server) gitTree(c *call, snap *repoSnapshot) response {
	return fakeserver.Forbidden(fakeserver.JSON(http.StatusOK, map[string]any{
		"sha": c.r.PathValue("sha"), "truncated": false,
		"tree": []map[string]any{{"path": "README.md", "mode": "100644", "type": "blob", "sha": fakeFile.SHA, "size": 4}},
	}))
}

func (s *Server) compare(c *call, snap *repoSnapshot) response {
	return fakeserver.Forbidden(fakeserver.JSON(http.StatusOK, map[string]any{
		"status": "ahead", "ahead_by": 1, "behind_by": 0, "total_commits": 1,
		"commits": []any{}, "files": []fileJSON{fakeFile},
	}))
}

func (s *Server) archive(c *call, snap *repoSnapshot) response {
	return fakeserver.Forbidden(response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/zip"}},
		Body:   []byte("PK\x03\x04fake-archive"),
	})
}

// other answers every path no route matches.
func (s *Server) other(c *call) response {
	return fakeserver.Forbidden(fakeserver.JSON(http.StatusOK, map[string]any{}))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
