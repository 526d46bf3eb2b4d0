package githubtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// Repo seeds a repository.
type Repo struct {
	ID            int64
	Owner, Name   string
	Private       bool
	Archived      bool
	DefaultBranch string // "" means "main"
	OwnerIsOrg    bool
}

// PullState is a pull request's state as GitHub reports it; a merged pull
// request is closed with Merged set.
type PullState string

// Pull request states.
const (
	PullOpen   PullState = "open"
	PullClosed PullState = "closed"
)

// PullRequest seeds or updates a pull request.
type PullRequest struct {
	Number int
	Title  string
	Body   string
	User   string // author login
	// HeadRef and HeadSHA name the source branch. HeadOwner owns the head
	// repository: "" means User (a fork); the repository's owner means a
	// branch of the repository itself.
	HeadRef, HeadSHA string
	HeadOwner        string
	BaseRef, BaseSHA string // BaseRef "" means the default branch
	State            PullState
	Merged           bool
	MergeCommitSHA   string
	Draft            bool
	// Zero CreatedAt means now; zero UpdatedAt means CreatedAt. ClosedAt
	// and MergedAt are reported only for closed and merged requests; zero
	// means UpdatedAt.
	CreatedAt, UpdatedAt, ClosedAt, MergedAt time.Time
}

// repoState is one repository. Guarded by Server.stateMu.
type repoState struct {
	repo      Repo
	history   *corpus.History
	branches  map[string]string
	tags      map[string]string
	pulls     map[int]PullRequest
	logins    map[string]string // email hash → GitHub login of commit authors
	createdAt time.Time
	updatedAt time.Time
	pushedAt  time.Time
}

// RepoHandle seeds and mutates one repository. It stays valid across
// renames; after DeleteRepo its methods do nothing.
type RepoHandle struct {
	s  *Server
	id int64
}

// ID is the repository's id.
func (h *RepoHandle) ID() int64 { return h.id }

func fullKey(owner, name string) string { return strings.ToLower(owner + "/" + name) }

// AddRepo adds an empty repository (no commits, no branches) or replaces
// the one with the same id.
func (s *Server) AddRepo(r Repo) *RepoHandle {
	empty := corpus.NewBuilder().Build()
	return s.addRepo(r, empty, nil, nil)
}

// AddCorpusRepo adds a repository of the organization owner holding h: its
// commits, branches and tags, and the pull requests h.PullRequests()
// synthesizes (all merged, head SHA = merge commit, base SHA = its first
// parent). The default branch is "master" when h has one, else "main". Commit authors are linked
// to GitHub accounts as far as the corpus allows: the author of a pull
// request's merge commit is taken to be its HeadUser; commits committed by
// "GitHub" have web-flow as committer; everyone else is an unlinked author
// (null "author" in the API, as for an email GitHub does not know).
func (s *Server) AddCorpusRepo(owner, name string, id int64, h *corpus.History) *RepoHandle {
	r := Repo{ID: id, Owner: owner, Name: name, OwnerIsOrg: true}
	if _, ok := h.Branch("master"); ok {
		r.DefaultBranch = "master"
	}
	var pulls []PullRequest
	logins := make(map[string]string)
	for _, p := range h.PullRequests() {
		parent := ""
		if c, ok := h.Commit(p.MergeCommitSHA); ok {
			if len(c.Parents) > 0 {
				parent = c.Parents[0]
			}
			if _, seen := logins[c.AuthorEmailHash]; !seen {
				logins[c.AuthorEmailHash] = p.HeadUser
			}
		}
		pulls = append(pulls, PullRequest{
			Number: p.Number, Title: p.Title, Body: p.Body, User: p.HeadUser,
			HeadRef: p.HeadBranch, HeadSHA: p.MergeCommitSHA,
			BaseRef: p.BaseBranch, BaseSHA: parent,
			State: PullClosed, Merged: true, MergeCommitSHA: p.MergeCommitSHA,
			CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, ClosedAt: p.MergedAt, MergedAt: p.MergedAt,
		})
	}
	return s.addRepo(r, h, pulls, logins)
}

func (s *Server) addRepo(r Repo, h *corpus.History, pulls []PullRequest, logins map[string]string) *RepoHandle {
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	now := s.now().UTC().Truncate(time.Second)
	st := &repoState{
		repo:      r,
		history:   h,
		branches:  make(map[string]string),
		tags:      make(map[string]string),
		pulls:     make(map[int]PullRequest),
		logins:    logins,
		createdAt: now,
		updatedAt: now,
		pushedAt:  now,
	}
	if st.logins == nil {
		st.logins = make(map[string]string)
	}
	for _, b := range h.Branches() {
		st.branches[b.Name] = b.SHA
	}
	for _, t := range h.Tags() {
		st.tags[t.Name] = t.SHA
	}
	for _, p := range pulls {
		st.pulls[p.Number] = normalizePull(p, r, now)
	}
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if old, ok := s.repos[r.ID]; ok {
		delete(s.byName, fullKey(old.repo.Owner, old.repo.Name))
	}
	key := fullKey(r.Owner, r.Name)
	if other, ok := s.byName[key]; ok && other != r.ID {
		panic(fmt.Sprintf("githubtest: repository %s/%s already exists with id %d", r.Owner, r.Name, other))
	}
	s.repos[r.ID] = st
	s.byName[key] = r.ID
	delete(s.moved, key)
	return &RepoHandle{s: s, id: r.ID}
}

// update runs fn on the repository under the state lock; a deleted
// repository is skipped.
func (h *RepoHandle) update(fn func(st *repoState)) {
	h.s.stateMu.Lock()
	defer h.s.stateMu.Unlock()
	if st, ok := h.s.repos[h.id]; ok {
		fn(st)
		st.updatedAt = h.s.now().UTC().Truncate(time.Second)
	}
}

// push records a push: GitHub bumps pushed_at (and so the repository's
// ETag) on every ref update.
func (h *RepoHandle) push(fn func(st *repoState)) {
	h.update(func(st *repoState) {
		fn(st)
		// update stamps updated_at after fn: stamp pushed_at the same.
		st.pushedAt = h.s.now().UTC().Truncate(time.Second)
	})
}

// SetBranch creates or moves a branch (a force-push may move it anywhere).
// sha should be a commit of the repository (AddCommit adds new ones).
func (h *RepoHandle) SetBranch(name, sha string) {
	h.push(func(st *repoState) { st.branches[name] = sha })
}

// DeleteBranch removes a branch.
func (h *RepoHandle) DeleteBranch(name string) {
	h.push(func(st *repoState) { delete(st.branches, name) })
}

// SetTag creates or moves a tag.
func (h *RepoHandle) SetTag(name, sha string) {
	h.push(func(st *repoState) { st.tags[name] = sha })
}

// DeleteTag removes a tag.
func (h *RepoHandle) DeleteTag(name string) {
	h.push(func(st *repoState) { delete(st.tags, name) })
}

// AddCommit adds a commit on top of the repository's history and returns
// its SHA (c.SHA, or corpus.ContentSHA(c) when empty). It does not move
// any branch: follow it with SetBranch. Its parents must be commits of the
// repository and its SHA new; a test that breaks that panics.
func (h *RepoHandle) AddCommit(c corpus.Commit) string {
	if c.SHA == "" {
		c.SHA = corpus.ContentSHA(c)
	}
	h.update(func(st *repoState) {
		next, err := st.history.With(c)
		if err != nil {
			panic(fmt.Sprintf("githubtest: AddCommit: %v", err))
		}
		st.history = next
	})
	return c.SHA
}

// SetLogin links commits whose author or committer email hash is
// emailHash to a GitHub account, so the API reports it as "author" /
// "committer" of those commits.
func (h *RepoHandle) SetLogin(emailHash, login string) {
	h.update(func(st *repoState) { st.logins[emailHash] = login })
}

// UpsertPull creates or replaces pull request p.Number.
func (h *RepoHandle) UpsertPull(p PullRequest) {
	h.update(func(st *repoState) {
		st.pulls[p.Number] = normalizePull(p, st.repo, h.s.now())
	})
}

// EditPull changes pull request number as someone would on GitHub (edit
// its title or body, close it, reopen it, mark it merged) and sets its
// updated_at to now, as GitHub does for every change; closing sets
// closed_at and merging merged_at. A pull request opened with UpsertPull
// from a fork (HeadOwner "") is edited the same way. It reports whether
// the pull request exists. Neither the repository's updated_at nor its
// pushed_at moves: only a search (updated:>=) or the repository's own
// pull request list sees the change. (A merge's push to the base branch is
// a separate SetBranch.)
func (h *RepoHandle) EditPull(number int, fn func(p *PullRequest)) bool {
	h.s.stateMu.Lock()
	defer h.s.stateMu.Unlock()
	st, ok := h.s.repos[h.id]
	if !ok {
		return false
	}
	old, ok := st.pulls[number]
	if !ok {
		return false
	}
	p := old
	fn(&p)
	now := h.s.now().UTC().Truncate(time.Second)
	p.Number, p.UpdatedAt = number, now
	if p.Merged && !old.Merged {
		p.State, p.MergedAt, p.ClosedAt = PullClosed, now, now
	}
	switch {
	case p.State == PullClosed && old.State != PullClosed:
		p.ClosedAt = now
	case p.State == PullOpen:
		p.ClosedAt = time.Time{}
	}
	st.pulls[number] = normalizePull(p, st.repo, now)
	return true
}

// Rename renames or transfers the repository. The former owner/name then
// answers 301 to /repositories/{id}, as GitHub does.
func (h *RepoHandle) Rename(newOwner, newName string) {
	h.s.stateMu.Lock()
	defer h.s.stateMu.Unlock()
	st, ok := h.s.repos[h.id]
	if !ok {
		return
	}
	oldKey, newKey := fullKey(st.repo.Owner, st.repo.Name), fullKey(newOwner, newName)
	if other, ok := h.s.byName[newKey]; ok && other != h.id {
		panic(fmt.Sprintf("githubtest: Rename: %s/%s already exists", newOwner, newName))
	}
	delete(h.s.byName, oldKey)
	if oldKey != newKey {
		h.s.moved[oldKey] = h.id
	}
	delete(h.s.moved, newKey)
	h.s.byName[newKey] = h.id
	st.repo.Owner, st.repo.Name = newOwner, newName
	st.updatedAt = h.s.now().UTC().Truncate(time.Second)
}

// Archive sets or clears the archived flag.
func (h *RepoHandle) Archive(archived bool) {
	h.update(func(st *repoState) { st.repo.Archived = archived })
}

// SetPrivate changes the visibility.
func (h *RepoHandle) SetPrivate(private bool) {
	h.update(func(st *repoState) { st.repo.Private = private })
}

// SetDefaultBranch changes the default branch.
func (h *RepoHandle) SetDefaultBranch(name string) {
	h.update(func(st *repoState) { st.repo.DefaultBranch = name })
}

func normalizePull(p PullRequest, r Repo, now time.Time) PullRequest {
	now = now.UTC().Truncate(time.Second)
	if p.State == "" {
		p.State = PullOpen
		if p.Merged {
			p.State = PullClosed
		}
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	if p.State == PullClosed && p.ClosedAt.IsZero() {
		p.ClosedAt = p.UpdatedAt
	}
	if p.Merged && p.MergedAt.IsZero() {
		p.MergedAt = p.ClosedAt
	}
	if p.BaseRef == "" {
		p.BaseRef = r.DefaultBranch
	}
	if p.User == "" {
		p.User = r.Owner
	}
	return p
}

// snapshot copies what a handler needs so it can encode without the lock.
type repoSnapshot struct {
	repo                           Repo
	history                        *corpus.History
	branches, tags                 map[string]string
	pulls                          []PullRequest
	logins                         map[string]string
	createdAt, updatedAt, pushedAt time.Time

	repoCache map[string]json.RawMessage // encodedRepo, per request
}

func (st *repoState) snapshot(withPulls bool) repoSnapshot {
	snap := repoSnapshot{
		repo: st.repo, history: st.history,
		branches: maps.Clone(st.branches), tags: maps.Clone(st.tags),
		logins:    maps.Clone(st.logins),
		createdAt: st.createdAt, updatedAt: st.updatedAt, pushedAt: st.pushedAt,
	}
	if withPulls {
		for _, p := range st.pulls {
			snap.pulls = append(snap.pulls, p)
		}
	}
	return snap
}
