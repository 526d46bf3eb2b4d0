package gitlabtest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// Project seeds a project.
type Project struct {
	ID int64
	// Namespace is the full path of the project's group, e.g.
	// "platform/backend" (created with its parents if missing), or
	// Options.Username for a project of the user's personal namespace.
	Namespace     string
	Path          string
	Archived      bool
	DefaultBranch string // "" means "main"
}

// Group is a group as the server holds it. AddGroup returns a copy:
// changing it changes nothing on the server.
type Group struct {
	ID       int64
	Path     string // the last component of FullPath
	FullPath string // e.g. "platform/backend"
	ParentID int64  // 0 for a top-level group
}

type groupState struct {
	Group
	createdAt time.Time
}

// MergeRequestState is a merge request's state as GitLab reports it.
type MergeRequestState string

// Merge request states.
const (
	MergeRequestOpened MergeRequestState = "opened"
	MergeRequestClosed MergeRequestState = "closed"
	MergeRequestMerged MergeRequestState = "merged"
	MergeRequestLocked MergeRequestState = "locked"
)

// MergeRequest seeds or updates a merge request.
type MergeRequest struct {
	IID         int
	Title       string
	Description string
	Author      string // username; "" means Options.Username
	// SourceBranch and SHA (its head) are the proposed change; TargetBranch
	// "" means the default branch. SourceProjectID 0 means the project
	// itself, another id a fork.
	SourceBranch, TargetBranch string
	SHA                        string
	SourceProjectID            int64
	MergeCommitSHA             string
	State                      MergeRequestState // "" means opened
	Draft                      bool
	// Zero CreatedAt means now; zero UpdatedAt means CreatedAt. MergedAt
	// and ClosedAt are reported only for merged and closed requests; zero
	// means UpdatedAt.
	CreatedAt, UpdatedAt, MergedAt, ClosedAt time.Time
}

// projectState is one project. Guarded by Server.stateMu. branches, tags
// and mrs are replaced, never modified, so snapshots can share them.
type projectState struct {
	p              Project
	nsID           int64
	history        *corpus.History
	branches, tags map[string]string
	mrs            []MergeRequest // by IID
	createdAt      time.Time
	updatedAt      time.Time
	lastActivityAt time.Time
}

// nsInfo is a namespace (group or user) as projects embed it.
type nsInfo struct {
	id       int64
	kind     string // "group" or "user"
	name     string
	path     string
	fullPath string
	parentID int64
}

// ProjectHandle seeds and mutates one project. It stays valid across
// renames; after DeleteProject its methods do nothing.
type ProjectHandle struct {
	s  *Server
	id int64
}

// ID is the project's id.
func (h *ProjectHandle) ID() int64 { return h.id }

// AddGroup creates the group at fullPath (e.g. "platform/backend") and its
// missing parents, and returns it; an existing group is returned as it is.
// Ids are handed out in creation order from 100, parents first, so the
// same sequence of calls always gives the same ids.
func (s *Server) AddGroup(fullPath string) *Group {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	g := s.ensureGroupLocked(fullPath)
	return &g.Group
}

func (s *Server) ensureGroupLocked(fullPath string) groupState {
	fullPath = strings.Trim(fullPath, "/")
	if fullPath == "" {
		panic("gitlabtest: empty group path")
	}
	if id, ok := s.groupByPath[strings.ToLower(fullPath)]; ok {
		return *s.groups[id]
	}
	var parent int64
	parentPath, name := "", fullPath
	if i := strings.LastIndex(fullPath, "/"); i >= 0 {
		parentPath, name = fullPath[:i], fullPath[i+1:]
		parent = s.ensureGroupLocked(parentPath).ID
		// The parent's spelling wins for the path prefix.
		fullPath = s.groups[parent].FullPath + "/" + name
	}
	g := &groupState{
		Group:     Group{ID: s.nextGroupID, Path: name, FullPath: fullPath, ParentID: parent},
		createdAt: s.now().UTC().Truncate(time.Millisecond),
	}
	s.nextGroupID++
	s.groups[g.ID] = g
	s.groupByPath[strings.ToLower(fullPath)] = g.ID
	return *g
}

// namespaceLocked resolves a Project.Namespace to a namespace id,
// creating groups as needed.
func (s *Server) namespaceLocked(ns string) int64 {
	if strings.EqualFold(ns, s.username) {
		return userNamespaceID
	}
	return s.ensureGroupLocked(ns).ID
}

func (s *Server) nsLocked(id int64) nsInfo {
	if id == userNamespaceID {
		return nsInfo{id: id, kind: "user", name: s.username, path: s.username, fullPath: s.username}
	}
	g := s.groups[id]
	return nsInfo{id: g.ID, kind: "group", name: g.Path, path: g.Path, fullPath: g.FullPath, parentID: g.ParentID}
}

func (s *Server) fullPathLocked(st *projectState) string {
	return s.nsLocked(st.nsID).fullPath + "/" + st.p.Path
}

// AddProject adds an empty project (no commits, no branches) or replaces
// the one with the same id.
func (s *Server) AddProject(p Project) *ProjectHandle {
	return s.addProject(p, corpus.NewBuilder().Build(), nil)
}

// AddCorpusProject adds the project namespace/path holding h: its commits,
// branches and tags, and one merged merge request per pull request
// h.PullRequests() synthesizes (IID = number, author = the head user,
// source branch = the head branch, merge_commit_sha = the merge commit,
// sha = its second parent for a true merge, else the commit itself). The
// default branch is "master" when h has one, else "main".
func (s *Server) AddCorpusProject(namespace, path string, id int64, h *corpus.History) *ProjectHandle {
	p := Project{ID: id, Namespace: namespace, Path: path}
	if _, ok := h.Branch("master"); ok {
		p.DefaultBranch = "master"
	}
	var mrs []MergeRequest
	for _, pr := range h.PullRequests() {
		sha := pr.MergeCommitSHA
		if c, ok := h.Commit(pr.MergeCommitSHA); ok && len(c.Parents) > 1 {
			sha = c.Parents[1]
		}
		mrs = append(mrs, MergeRequest{
			IID: pr.Number, Title: pr.Title, Description: pr.Body, Author: pr.HeadUser,
			SourceBranch: pr.HeadBranch, TargetBranch: pr.BaseBranch, SHA: sha,
			MergeCommitSHA: pr.MergeCommitSHA, State: MergeRequestMerged,
			CreatedAt: pr.CreatedAt, UpdatedAt: pr.UpdatedAt, MergedAt: pr.MergedAt,
		})
	}
	return s.addProject(p, h, mrs)
}

func (s *Server) addProject(p Project, h *corpus.History, mrs []MergeRequest) *ProjectHandle {
	if p.DefaultBranch == "" {
		p.DefaultBranch = "main"
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	st := &projectState{
		p:              p,
		history:        h,
		branches:       make(map[string]string),
		tags:           make(map[string]string),
		createdAt:      now,
		updatedAt:      now,
		lastActivityAt: now,
	}
	for _, b := range h.Branches() {
		st.branches[b.Name] = b.SHA
	}
	for _, t := range h.Tags() {
		st.tags[t.Name] = t.SHA
	}
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	st.nsID = s.namespaceLocked(p.Namespace)
	for _, m := range mrs {
		st.mrs = append(st.mrs, s.normalizeMR(m, p, now))
	}
	slices.SortFunc(st.mrs, func(a, b MergeRequest) int { return cmp.Compare(a.IID, b.IID) })
	if old, ok := s.projects[p.ID]; ok {
		delete(s.byPath, strings.ToLower(s.fullPathLocked(old)))
	}
	key := strings.ToLower(s.fullPathLocked(st))
	if other, ok := s.byPath[key]; ok && other != p.ID {
		panic(fmt.Sprintf("gitlabtest: project %s already exists with id %d", key, other))
	}
	s.projects[p.ID] = st
	s.byPath[key] = p.ID
	delete(s.moved, key)
	return &ProjectHandle{s: s, id: p.ID}
}

// update runs fn on the project under the state lock; a deleted project
// is skipped. push also records repository activity.
func (h *ProjectHandle) update(push bool, fn func(st *projectState)) {
	h.s.stateMu.Lock()
	defer h.s.stateMu.Unlock()
	if st, ok := h.s.projects[h.id]; ok {
		fn(st)
		st.updatedAt = h.s.now().UTC().Truncate(time.Millisecond)
		if push {
			st.lastActivityAt = st.updatedAt
		}
	}
}

// SetBranch creates or moves a branch (a force-push may move it anywhere).
// sha should be a commit of the project (AddCommit adds new ones).
func (h *ProjectHandle) SetBranch(name, sha string) {
	h.update(true, func(st *projectState) { st.branches = with(st.branches, name, sha) })
}

// DeleteBranch removes a branch.
func (h *ProjectHandle) DeleteBranch(name string) {
	h.update(true, func(st *projectState) { st.branches = without(st.branches, name) })
}

// SetTag creates or moves a tag.
func (h *ProjectHandle) SetTag(name, sha string) {
	h.update(true, func(st *projectState) { st.tags = with(st.tags, name, sha) })
}

// DeleteTag removes a tag.
func (h *ProjectHandle) DeleteTag(name string) {
	h.update(true, func(st *projectState) { st.tags = without(st.tags, name) })
}

func with(m map[string]string, k, v string) map[string]string {
	m = maps.Clone(m)
	m[k] = v
	return m
}

func without(m map[string]string, k string) map[string]string {
	m = maps.Clone(m)
	delete(m, k)
	return m
}

// AddCommit adds a commit to the project's history and returns its SHA
// (c.SHA, or corpus.ContentSHA(c) when empty). It moves no branch: follow
// it with SetBranch. Its parents must be commits of the project and its
// SHA new; a test that breaks that panics.
func (h *ProjectHandle) AddCommit(c corpus.Commit) string {
	if c.SHA == "" {
		c.SHA = corpus.ContentSHA(c)
	}
	h.update(false, func(st *projectState) {
		next, err := st.history.With(c)
		if err != nil {
			panic(fmt.Sprintf("gitlabtest: AddCommit: %v", err))
		}
		st.history = next
	})
	return c.SHA
}

// UpsertMergeRequest creates or replaces merge request m.IID.
func (h *ProjectHandle) UpsertMergeRequest(m MergeRequest) {
	h.update(false, func(st *projectState) {
		m = h.s.normalizeMR(m, st.p, h.s.now())
		mrs := slices.Clone(st.mrs)
		i, found := slices.BinarySearchFunc(mrs, m.IID, func(x MergeRequest, iid int) int { return cmp.Compare(x.IID, iid) })
		if found {
			mrs[i] = m
		} else {
			mrs = slices.Insert(mrs, i, m)
		}
		st.mrs = mrs
	})
}

// EditMergeRequest changes merge request iid as someone would on GitLab
// (edit its title or description, close, reopen or merge it) and sets its
// updated_at to now, as GitLab does for every change; closing sets
// closed_at and merging merged_at. It reports whether the merge request
// exists. The project's last_activity_at does not move (a merge's push to
// the target branch is a separate SetBranch).
func (h *ProjectHandle) EditMergeRequest(iid int, fn func(m *MergeRequest)) bool {
	found := false
	h.update(false, func(st *projectState) {
		i, ok := slices.BinarySearchFunc(st.mrs, iid, func(x MergeRequest, n int) int { return cmp.Compare(x.IID, n) })
		if !ok {
			return
		}
		found = true
		old := st.mrs[i]
		m := old
		fn(&m)
		now := h.s.now().UTC().Truncate(time.Millisecond)
		m.IID, m.UpdatedAt = iid, now
		if m.State != old.State {
			switch m.State {
			case MergeRequestMerged:
				m.MergedAt = now
			case MergeRequestClosed:
				m.ClosedAt = now
			}
		}
		mrs := slices.Clone(st.mrs)
		mrs[i] = h.s.normalizeMR(m, st.p, now)
		st.mrs = mrs
	})
	return found
}

// Rename renames the project or transfers it to another namespace (created
// if missing). GET requests naming a former path are then answered 301
// to /api/v4/projects/{id}/..., as GitLab does.
func (h *ProjectHandle) Rename(newNamespace, newPath string) {
	s := h.s
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	st, ok := s.projects[h.id]
	if !ok {
		return
	}
	nsID := s.namespaceLocked(newNamespace)
	oldKey := strings.ToLower(s.fullPathLocked(st))
	newKey := strings.ToLower(s.nsLocked(nsID).fullPath + "/" + newPath)
	if other, ok := s.byPath[newKey]; ok && other != h.id {
		panic(fmt.Sprintf("gitlabtest: Rename: %s already exists", newKey))
	}
	delete(s.byPath, oldKey)
	if oldKey != newKey {
		s.moved[oldKey] = h.id
	}
	delete(s.moved, newKey)
	s.byPath[newKey] = h.id
	st.nsID, st.p.Path = nsID, newPath
	st.p.Namespace = s.nsLocked(nsID).fullPath
	st.updatedAt = s.now().UTC().Truncate(time.Millisecond)
}

// Archive sets or clears the archived flag.
func (h *ProjectHandle) Archive(archived bool) {
	h.update(false, func(st *projectState) { st.p.Archived = archived })
}

// SetDefaultBranch changes the default branch.
func (h *ProjectHandle) SetDefaultBranch(name string) {
	h.update(false, func(st *projectState) { st.p.DefaultBranch = name })
}

func (s *Server) normalizeMR(m MergeRequest, p Project, now time.Time) MergeRequest {
	now = now.UTC().Truncate(time.Millisecond)
	if m.State == "" {
		m.State = MergeRequestOpened
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	if m.State == MergeRequestMerged && m.MergedAt.IsZero() {
		m.MergedAt = m.UpdatedAt
	}
	if m.State == MergeRequestClosed && m.ClosedAt.IsZero() {
		m.ClosedAt = m.UpdatedAt
	}
	if m.TargetBranch == "" {
		m.TargetBranch = p.DefaultBranch
	}
	if m.Author == "" {
		m.Author = s.username
	}
	return m
}

// projectSnapshot is what a handler needs, taken under the lock so that
// it can encode without it. Maps and slices are shared, never modified.
type projectSnapshot struct {
	p                                    Project
	ns                                   nsInfo
	history                              *corpus.History
	branches, tags                       map[string]string
	mrs                                  []MergeRequest
	createdAt, updatedAt, lastActivityAt time.Time
}

func (s *Server) snapshotLocked(st *projectState) projectSnapshot {
	return projectSnapshot{
		p: st.p, ns: s.nsLocked(st.nsID), history: st.history,
		branches: st.branches, tags: st.tags, mrs: st.mrs,
		createdAt: st.createdAt, updatedAt: st.updatedAt, lastActivityAt: st.lastActivityAt,
	}
}

func (snap *projectSnapshot) fullPath() string { return snap.ns.fullPath + "/" + snap.p.Path }

// allProjects snapshots every project, by id.
func (s *Server) allProjects() []projectSnapshot {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	out := make([]projectSnapshot, 0, len(s.projects))
	for _, st := range s.projects {
		out = append(out, s.snapshotLocked(st))
	}
	slices.SortFunc(out, func(a, b projectSnapshot) int { return cmp.Compare(a.p.ID, b.p.ID) })
	return out
}
