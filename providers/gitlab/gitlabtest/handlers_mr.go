package gitlabtest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// listMergeRequests serves GET /projects/:id/merge_requests (see
// mergeRequestList).
func (s *Server) listMergeRequests(c *call, snap *projectSnapshot) response {
	refs := make([]mrRef, 0, len(snap.mrs))
	for _, m := range snap.mrs {
		refs = append(refs, mrRef{snap, m})
	}
	return s.mergeRequestList(c, refs)
}

// listGroupMergeRequests serves GET /groups/:id/merge_requests: the merge
// requests of the group's projects and of its subgroups' (the group
// listing always descends), those of archived projects only with
// non_archived=false (default true), filtered, sorted and paginated like a
// project's (mergeRequestList).
func (s *Server) listGroupMergeRequests(c *call, g groupState) response {
	nonArchived, bad := boolParam(c, "non_archived", true)
	if bad != nil {
		return *bad
	}
	prefix := strings.ToLower(g.FullPath) + "/"
	var refs []mrRef
	for _, p := range s.allProjects() {
		if p.ns.kind != "group" || !strings.HasPrefix(strings.ToLower(p.ns.fullPath)+"/", prefix) || (nonArchived && p.p.Archived) {
			continue
		}
		snap := p
		for _, m := range snap.mrs {
			refs = append(refs, mrRef{&snap, m})
		}
	}
	return s.mergeRequestList(c, refs)
}

// mrRef is a merge request and its project.
type mrRef struct {
	snap *projectSnapshot
	m    MergeRequest
}

// mergeRequestList filters, sorts and paginates merge requests by state
// (default all), order_by (created_at, the default, updated_at, merged_at
// or title), sort (default desc), created_after/before and
// updated_after/before (inclusive), source_branch, target_branch,
// author_username, scope (all, the default; created_by_me;
// assigned_to_me, which is empty), iids[] and view=simple. Ties are
// broken by id in the sort direction.
func (s *Server) mergeRequestList(c *call, refs []mrRef) response {
	q := c.r.URL.Query()
	state, bad := enumParam(c, "state", "all", "opened", "closed", "locked", "merged", "all")
	if bad != nil {
		return *bad
	}
	orderBy, bad := enumParam(c, "order_by", "created_at", "created_at", "updated_at", "merged_at", "title")
	if bad != nil {
		return *bad
	}
	sortDir, bad := enumParam(c, "sort", "desc", "asc", "desc")
	if bad != nil {
		return *bad
	}
	scope, bad := enumParam(c, "scope", "all", "all", "created_by_me", "assigned_to_me")
	if bad != nil {
		return *bad
	}
	var bounds [4]time.Time
	for i, name := range []string{"created_after", "created_before", "updated_after", "updated_before"} {
		if bounds[i], bad = timeParam(c, name); bad != nil {
			return *bad
		}
	}
	iids := q["iids[]"]
	author := q.Get("author_username")
	if scope == "created_by_me" {
		author = s.username
	}
	in := func(t, after, before time.Time) bool {
		return (after.IsZero() || !t.Before(after)) && (before.IsZero() || !t.After(before))
	}
	var list []mrRef
	for _, r := range refs {
		m := r.m
		switch {
		case state != "all" && string(m.State) != state,
			scope == "assigned_to_me",
			author != "" && !strings.EqualFold(m.Author, author),
			q.Get("source_branch") != "" && m.SourceBranch != q.Get("source_branch"),
			q.Get("target_branch") != "" && m.TargetBranch != q.Get("target_branch"),
			len(iids) > 0 && !slices.Contains(iids, strconv.Itoa(m.IID)),
			!in(m.CreatedAt, bounds[0], bounds[1]),
			!in(m.UpdatedAt, bounds[2], bounds[3]):
			continue
		}
		list = append(list, r)
	}
	slices.SortFunc(list, func(x, y mrRef) int {
		a, b := x.m, y.m
		var r int
		switch orderBy {
		case "created_at":
			r = a.CreatedAt.Compare(b.CreatedAt)
		case "updated_at":
			r = a.UpdatedAt.Compare(b.UpdatedAt)
		case "merged_at":
			r = a.MergedAt.Compare(b.MergedAt)
		case "title":
			r = strings.Compare(a.Title, b.Title)
		}
		r = cmp.Or(r, cmp.Compare(mergeRequestID(x.snap.p.ID, a.IID), mergeRequestID(y.snap.p.ID, b.IID)))
		if sortDir == "desc" {
			return -r
		}
		return r
	})
	page, header, bad := paginate(c, list, countUpTo10k)
	if bad != nil {
		return *bad
	}
	if q.Get("view") == "simple" {
		items := make([]mergeRequestSimpleJSON, 0, len(page))
		for _, r := range page {
			items = append(items, s.mergeRequestSimpleJSON(r.snap, r.m))
		}
		return listResponse(items, header)
	}
	items := make([]mergeRequestJSON, 0, len(page))
	for _, r := range page {
		items = append(items, s.mergeRequestJSON(r.snap, r.m))
	}
	return listResponse(items, header)
}

// findMergeRequest finds merge request :iid of snap.
func findMergeRequest(c *call, snap *projectSnapshot) (MergeRequest, bool) {
	iid, err := strconv.Atoi(c.params["iid"])
	if err != nil {
		return MergeRequest{}, false
	}
	i, ok := slices.BinarySearchFunc(snap.mrs, iid, func(m MergeRequest, n int) int { return cmp.Compare(m.IID, n) })
	if !ok {
		return MergeRequest{}, false
	}
	return snap.mrs[i], true
}

type diffRefsJSON struct {
	BaseSHA  string `json:"base_sha"`
	HeadSHA  string `json:"head_sha"`
	StartSHA string `json:"start_sha"`
}

// mergeRequestDetailJSON is GET /projects/:id/merge_requests/:iid.
type mergeRequestDetailJSON struct {
	mergeRequestJSON
	Subscribed   bool         `json:"subscribed"`
	ChangesCount string       `json:"changes_count"`
	DiffRefs     diffRefsJSON `json:"diff_refs"`
	MergeError   *string      `json:"merge_error"`
	User         struct {
		CanMerge bool `json:"can_merge"`
	} `json:"user"`
}

func (s *Server) getMergeRequest(c *call, snap *projectSnapshot) response {
	m, ok := findMergeRequest(c, snap)
	if !ok {
		return messageResponse(http.StatusNotFound, "404 Not found")
	}
	base := snap.branches[m.TargetBranch]
	if cm, ok := snap.history.Commit(m.MergeCommitSHA); ok && len(cm.Parents) > 0 {
		base = cm.Parents[0]
	}
	return jsonResponse(http.StatusOK, mergeRequestDetailJSON{
		mergeRequestJSON: s.mergeRequestJSON(snap, m),
		ChangesCount:     "1",
		DiffRefs:         diffRefsJSON{BaseSHA: base, HeadSHA: m.SHA, StartSHA: base},
	})
}
