package gitlabtest

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

func (s *Server) getProject(c *call, snap *projectSnapshot) response {
	if wantsStatistics(c) {
		return s.projectWithStatistics(c, snap)
	}
	return jsonResponse(http.StatusOK, s.projectJSON(c, snap, true))
}

// nameMatches applies GitLab's branch and tag search: "^x" is a prefix,
// "x$" a suffix, anything else a substring, all case-insensitive.
func nameMatches(name, search string) bool {
	if search == "" {
		return true
	}
	name, search = strings.ToLower(name), strings.ToLower(search)
	switch {
	case strings.HasPrefix(search, "^"):
		return strings.HasPrefix(name, search[1:])
	case strings.HasSuffix(search, "$"):
		return strings.HasSuffix(name, strings.TrimSuffix(search, "$"))
	}
	return strings.Contains(name, search)
}

// commitDate is the committer date of sha, zero if unknown.
func commitDate(h *corpus.History, sha string) time.Time {
	cm, _ := h.Commit(sha)
	return cm.CommitterDate
}

// listBranches serves GET .../repository/branches, by name unless sort is
// updated_asc or updated_desc (head commit date).
func (s *Server) listBranches(c *call, snap *projectSnapshot) response {
	sortBy, bad := enumParam(c, "sort", "name_asc", "name_asc", "updated_asc", "updated_desc")
	if bad != nil {
		return *bad
	}
	search := c.r.URL.Query().Get("search")
	var names []string
	for n := range snap.branches {
		if nameMatches(n, search) {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		switch sortBy {
		case "updated_asc":
			return cmp.Or(commitDate(snap.history, snap.branches[a]).Compare(commitDate(snap.history, snap.branches[b])), strings.Compare(a, b))
		case "updated_desc":
			return cmp.Or(commitDate(snap.history, snap.branches[b]).Compare(commitDate(snap.history, snap.branches[a])), strings.Compare(a, b))
		}
		return strings.Compare(a, b)
	})
	page, header, bad := paginate(c, names, countAlways)
	if bad != nil {
		return *bad
	}
	merged := map[string]bool{}
	if head, ok := snap.branches[snap.p.DefaultBranch]; ok {
		merged = s.histories.Reachable(snap.history, head)
	}
	items := make([]branchJSON, 0, len(page))
	for _, n := range page {
		items = append(items, s.branchJSON(snap, n, merged))
	}
	return listResponse(items, header)
}

func (s *Server) getBranch(c *call, snap *projectSnapshot) response {
	name := c.params["branch"]
	if _, ok := snap.branches[name]; !ok {
		return messageResponse(http.StatusNotFound, "404 Branch Not Found")
	}
	merged := map[string]bool{}
	if head, ok := snap.branches[snap.p.DefaultBranch]; ok {
		merged = s.histories.Reachable(snap.history, head)
	}
	return jsonResponse(http.StatusOK, s.branchJSON(snap, name, merged))
}

// listTags serves GET .../repository/tags: order_by updated (default; the
// commit date), name or version, sort desc (default) or asc.
func (s *Server) listTags(c *call, snap *projectSnapshot) response {
	orderBy, bad := enumParam(c, "order_by", "updated", "name", "updated", "version")
	if bad != nil {
		return *bad
	}
	sortDir, bad := enumParam(c, "sort", "desc", "asc", "desc")
	if bad != nil {
		return *bad
	}
	search := c.r.URL.Query().Get("search")
	var names []string
	for n := range snap.tags {
		if nameMatches(n, search) {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		var r int
		switch orderBy {
		case "updated":
			r = commitDate(snap.history, snap.tags[a]).Compare(commitDate(snap.history, snap.tags[b]))
		case "version":
			r = versionCompare(a, b)
		}
		r = cmp.Or(r, strings.Compare(a, b))
		if sortDir == "desc" {
			return -r
		}
		return r
	})
	page, header, bad := paginate(c, names, countAlways)
	if bad != nil {
		return *bad
	}
	items := make([]tagJSON, 0, len(page))
	for _, n := range page {
		items = append(items, s.tagJSON(snap, n))
	}
	return listResponse(items, header)
}

// versionCompare orders names like versions: runs of digits compare as
// numbers, everything else as text.
func versionCompare(a, b string) int {
	for a != "" && b != "" {
		da, ra := splitRun(a)
		db, rb := splitRun(b)
		if isDigit(da[0]) && isDigit(db[0]) {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if r := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); r != 0 {
				return r
			}
		} else if r := strings.Compare(da, db); r != 0 {
			return r
		}
		a, b = ra, rb
	}
	return cmp.Compare(len(a), len(b))
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// splitRun cuts the leading run of digits or of non-digits off s.
func splitRun(s string) (run, rest string) {
	i := 1
	for i < len(s) && isDigit(s[i]) == isDigit(s[0]) {
		i++
	}
	return s[:i], s[i:]
}

func (s *Server) getTag(c *call, snap *projectSnapshot) response {
	name := c.params["tag"]
	if _, ok := snap.tags[name]; !ok {
		return messageResponse(http.StatusNotFound, "404 Tag Not Found")
	}
	return jsonResponse(http.StatusOK, s.tagJSON(snap, name))
}

// resolveRef resolves a branch, a tag, a full SHA or a unique SHA prefix
// of at least 4 hex digits, as git does.
func resolveRef(snap *projectSnapshot, ref string) (string, bool) {
	return fakeserver.ResolveRef(snap.history, snap.branches, snap.tags, ref, 4)
}

// listCommits serves GET .../repository/commits: the history reachable
// from ref_name (a branch, tag or SHA, or a range "a..b"; default the
// default branch) in `git log` order, optionally first_parent only,
// limited by since/until on the committer date and by author (a
// case-insensitive substring of the author name). An unknown ref and an
// empty repository give an empty list, as on GitLab. path, all and order
// are ignored. with_stats=true adds diff statistics and marks the request
// Forbidden.
func (s *Server) listCommits(c *call, snap *projectSnapshot) response {
	q := c.r.URL.Query()
	since, bad := timeParam(c, "since")
	if bad != nil {
		return *bad
	}
	until, bad := timeParam(c, "until")
	if bad != nil {
		return *bad
	}
	firstParent, bad := boolParam(c, "first_parent", false)
	if bad != nil {
		return *bad
	}
	withStats, bad := boolParam(c, "with_stats", false)
	if bad != nil {
		return *bad
	}
	withTrailers, bad := boolParam(c, "trailers", false)
	if bad != nil {
		return *bad
	}
	author := strings.ToLower(q.Get("author"))

	ref := cmp.Or(q.Get("ref_name"), snap.p.DefaultBranch)
	var shas []string
	if from, to, isRange := strings.Cut(ref, ".."); isRange {
		fromSHA, ok1 := resolveRef(snap, from)
		toSHA, ok2 := resolveRef(snap, to)
		if ok1 && ok2 {
			exclude := s.histories.Reachable(snap.history, fromSHA)
			for _, sha := range s.histories.Log(snap.history, toSHA) {
				if !exclude[sha] {
					shas = append(shas, sha)
				}
			}
		}
	} else if head, ok := resolveRef(snap, ref); ok {
		if firstParent {
			for sha := head; sha != ""; {
				shas = append(shas, sha)
				cm, ok := snap.history.Commit(sha)
				if !ok || len(cm.Parents) == 0 {
					break
				}
				sha = cm.Parents[0]
			}
		} else {
			shas = s.histories.Log(snap.history, head)
		}
	}
	if !since.IsZero() || !until.IsZero() || author != "" {
		var kept []string
		for _, sha := range shas {
			cm, _ := snap.history.Commit(sha)
			if (since.IsZero() || !cm.CommitterDate.Before(since)) && (until.IsZero() || !cm.CommitterDate.After(until)) &&
				strings.Contains(strings.ToLower(cm.AuthorName), author) {
				kept = append(kept, sha)
			}
		}
		shas = kept
	}
	page, header, bad := paginate(c, shas, countNever)
	if bad != nil {
		return *bad
	}
	full := snap.fullPath()
	if withStats {
		items := make([]commitDetailJSON, 0, len(page))
		for _, sha := range page {
			cm, _ := snap.history.Commit(sha)
			items = append(items, commitDetailJSON{commitJSON: s.commitJSON(full, cm, withTrailers), Stats: fakeStats})
		}
		return fakeserver.Forbidden(listResponse(items, header))
	}
	items := make([]commitJSON, 0, len(page))
	for _, sha := range page {
		cm, _ := snap.history.Commit(sha)
		items = append(items, s.commitJSON(full, cm, withTrailers))
	}
	return listResponse(items, header)
}
