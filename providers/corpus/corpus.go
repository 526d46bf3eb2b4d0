// Package corpus is an in-memory, read-only Git history of commit metadata:
// the real Apache ZooKeeper history embedded from data/ (ZooKeeper), or a
// synthetic one made with a Builder.
//
// It exists for fakes, the demo and tests; the daemon never imports it. A
// History answers the questions a fake Git server needs — which commits a
// ref reaches and in which order `git log` prints them — without Git.
package corpus

import (
	"iter"
	"slices"
	"strings"
	"sync"
	"time"
)

// Commit is the metadata of one commit. Email addresses are never stored,
// only a stable hash of them (see data/README.md).
type Commit struct {
	SHA                string
	Parents            []string // git order; empty for a root commit
	AuthorName         string
	AuthorEmailHash    string
	AuthorDate         time.Time
	CommitterName      string
	CommitterEmailHash string
	CommitterDate      time.Time
	Message            string // full message without the final newline
}

// Subject is the first line of the message, as `git log --format=%s` shows
// it for single-line subjects and as GitHub titles a pull request.
func (c Commit) Subject() string {
	s, _, _ := strings.Cut(c.Message, "\n")
	return strings.TrimRight(s, "\r")
}

// RefKind tells a branch from a tag.
type RefKind string

// Ref kinds.
const (
	KindBranch RefKind = "branch"
	KindTag    RefKind = "tag"
)

// Ref is a branch or tag and the commit it resolves to (tags peeled).
type Ref struct {
	Name string
	Kind RefKind
	SHA  string
}

// History is a set of commits with their branches and tags.
//
// It is immutable once built and safe for concurrent use. Commits are
// addressed internally by index so that walks allocate nothing per commit
// beyond the result.
type History struct {
	commits  []Commit // load order (the corpus is in `git log --date-order` order)
	index    map[string]int32
	parents  [][]int32 // parents[i]: indices of commits[i]'s parents, git order
	dates    []int64   // committer date, Unix seconds: git's walk key
	branches []Ref     // sorted by name
	tags     []Ref     // sorted by name

	pullsOnce sync.Once
	pulls     []PullRequest
}

// Len is the number of commits.
func (h *History) Len() int { return len(h.commits) }

// All yields every commit in load order. For the ZooKeeper corpus that is
// `git log --branches --tags --date-order` order, newest first.
func (h *History) All() iter.Seq[Commit] {
	return func(yield func(Commit) bool) {
		for _, c := range h.commits {
			if !yield(clone(c)) {
				return
			}
		}
	}
}

// Commit returns the commit with the given full SHA.
func (h *History) Commit(sha string) (Commit, bool) {
	i, ok := h.index[sha]
	if !ok {
		return Commit{}, false
	}
	return clone(h.commits[i]), true
}

// Branches returns the branches sorted by name.
func (h *History) Branches() []Ref { return slices.Clone(h.branches) }

// Tags returns the tags sorted by name.
func (h *History) Tags() []Ref { return slices.Clone(h.tags) }

// Branch returns the named branch.
func (h *History) Branch(name string) (Ref, bool) { return findRef(h.branches, name) }

// Tag returns the named tag.
func (h *History) Tag(name string) (Ref, bool) { return findRef(h.tags, name) }

func findRef(refs []Ref, name string) (Ref, bool) {
	i, ok := slices.BinarySearchFunc(refs, name, func(r Ref, n string) int { return strings.Compare(r.Name, n) })
	if !ok {
		return Ref{}, false
	}
	return refs[i], true
}

// Log returns the SHAs of all commits reachable from head, head included,
// in the order `git log <head>` prints them, or nil if head is not a commit
// of the history.
//
// That order is git's default revision walk: a priority queue keyed on
// committer date (whole seconds, newest first; among equal dates the commit
// queued first comes first) starts with head; popping a commit prints it
// and queues those of its parents, in parent order, that were never queued
// before. It is not a topological order: a commit whose committer date is
// older than its parent's is printed before that parent, exactly as git
// does.
func (h *History) Log(head string) []string {
	start, ok := h.index[head]
	if !ok {
		return nil
	}
	seen := make([]bool, len(h.commits))
	q := walkQueue{dates: h.dates}
	seen[start] = true
	q.push(start)
	var out []string
	for q.Len() > 0 {
		i := q.pop()
		out = append(out, h.commits[i].SHA)
		for _, p := range h.parents[i] {
			if !seen[p] {
				seen[p] = true
				q.push(p)
			}
		}
	}
	return out
}

// Reachable returns the set of SHAs reachable from any of heads (the heads
// included). Heads that are not commits of the history are ignored.
func (h *History) Reachable(heads ...string) map[string]bool {
	seen := h.reach(heads...)
	out := make(map[string]bool)
	for i, ok := range seen {
		if ok {
			out[h.commits[i].SHA] = true
		}
	}
	return out
}

// reach marks, by index, the commits reachable from heads.
func (h *History) reach(heads ...string) []bool {
	seen := make([]bool, len(h.commits))
	var stack []int32
	for _, head := range heads {
		if i, ok := h.index[head]; ok && !seen[i] {
			seen[i] = true
			stack = append(stack, i)
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range h.parents[i] {
			if !seen[p] {
				seen[p] = true
				stack = append(stack, p)
			}
		}
	}
	return seen
}

func clone(c Commit) Commit {
	c.Parents = slices.Clone(c.Parents)
	return c
}

// walkQueue is git's revision-walk queue: newest committer date first,
// first queued first among equal dates. A hand-rolled binary heap: it keeps
// Log free of per-commit allocations.
type walkQueue struct {
	dates []int64
	items []walkItem
	seq   int64
}

type walkItem struct {
	idx int32
	seq int64
}

func (q *walkQueue) Len() int { return len(q.items) }

func (q *walkQueue) less(a, b walkItem) bool {
	da, db := q.dates[a.idx], q.dates[b.idx]
	if da != db {
		return da > db
	}
	return a.seq < b.seq
}

func (q *walkQueue) push(i int32) {
	q.items = append(q.items, walkItem{idx: i, seq: q.seq})
	q.seq++
	j := len(q.items) - 1
	for j > 0 {
		parent := (j - 1) / 2
		if !q.less(q.items[j], q.items[parent]) {
			break
		}
		q.items[j], q.items[parent] = q.items[parent], q.items[j]
		j = parent
	}
}

func (q *walkQueue) pop() int32 {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items = q.items[:last]
	j := 0
	for {
		l, r, m := 2*j+1, 2*j+2, j
		if l < last && q.less(q.items[l], q.items[m]) {
			m = l
		}
		if r < last && q.less(q.items[r], q.items[m]) {
			m = r
		}
		if m == j {
			break
		}
		q.items[j], q.items[m] = q.items[m], q.items[j]
		j = m
	}
	return top.idx
}
