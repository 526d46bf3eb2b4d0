package corpus

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Default identity of commits made with Builder.Commit.
const (
	BuilderAuthorName      = "Test Author"
	BuilderAuthorEmailHash = "0123456789abcdef"
)

// Builder makes synthetic histories for tests: a 200,000-commit linear
// history, a few commits with merges, a branch that is force-pushed.
//
// SHAs are deterministic: the SHA-1 of the commit's content (parents,
// identities, dates, message), so the same script always yields the same
// SHAs and adding the same content twice yields the same commit. Misuse (an
// unknown parent, a ref to an unknown commit) is a bug in the test and
// panics.
//
// A Builder is not safe for concurrent use.
type Builder struct {
	commits  []Commit // oldest first
	index    map[string]int
	branches map[string]string
	tags     map[string]string
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		index:    make(map[string]int),
		branches: make(map[string]string),
		tags:     make(map[string]string),
	}
}

// Commit adds a commit with the given parents (git order; nil for a root),
// message, and author and committer date when, by BuilderAuthorName, and
// returns its SHA.
func (b *Builder) Commit(parents []string, msg string, when time.Time) string {
	return b.Add(Commit{
		Parents:            parents,
		AuthorName:         BuilderAuthorName,
		AuthorEmailHash:    BuilderAuthorEmailHash,
		AuthorDate:         when,
		CommitterName:      BuilderAuthorName,
		CommitterEmailHash: BuilderAuthorEmailHash,
		CommitterDate:      when,
		Message:            msg,
	})
}

// Add adds a fully specified commit and returns its SHA. An empty c.SHA is
// filled with the content hash; a given SHA is kept (to mimic a real
// repository). Adding a SHA that is already present is a no-op.
func (b *Builder) Add(c Commit) string {
	c = clone(c)
	if c.SHA == "" {
		c.SHA = ContentSHA(c)
	}
	if _, ok := b.index[c.SHA]; ok {
		return c.SHA
	}
	for _, p := range c.Parents {
		if _, ok := b.index[p]; !ok {
			panic(fmt.Sprintf("corpus.Builder: commit %q: unknown parent %s", c.Subject(), p))
		}
	}
	b.index[c.SHA] = len(b.commits)
	b.commits = append(b.commits, c)
	return c.SHA
}

// Branch creates or moves (also backwards: a force-push) a branch.
func (b *Builder) Branch(name, sha string) {
	b.mustHave(sha)
	b.branches[name] = sha
}

// DeleteBranch removes a branch if present.
func (b *Builder) DeleteBranch(name string) { delete(b.branches, name) }

// Tag creates or moves a tag.
func (b *Builder) Tag(name, sha string) {
	b.mustHave(sha)
	b.tags[name] = sha
}

func (b *Builder) mustHave(sha string) {
	if _, ok := b.index[sha]; !ok {
		panic(fmt.Sprintf("corpus.Builder: unknown commit %s", sha))
	}
}

// Build returns the History of everything added so far. The Builder stays
// usable; later additions do not affect the returned History. Commits
// unreachable from any ref are kept (a fake server can still serve them by
// SHA, as GitHub does for force-pushed-away commits).
func (b *Builder) Build() *History {
	cs := make([]Commit, len(b.commits))
	// Newest first, like the corpus.
	for i, c := range b.commits {
		cs[len(cs)-1-i] = c
	}
	refs := make([]Ref, 0, len(b.branches)+len(b.tags))
	for n, s := range b.branches {
		refs = append(refs, Ref{Name: n, Kind: KindBranch, SHA: s})
	}
	for n, s := range b.tags {
		refs = append(refs, Ref{Name: n, Kind: KindTag, SHA: s})
	}
	h, err := newHistory(cs, refs)
	if err != nil {
		// Add and Branch validated everything already.
		panic("corpus.Builder: " + err.Error())
	}
	return h
}

// ContentSHA is the SHA Builder and History.With give a commit without one:
// the SHA-1 of a git-like rendering of its parents, identities, dates and
// message (c.SHA is ignored). It is not git's object hash (there is no
// tree), only deterministic.
func ContentSHA(c Commit) string {
	var sb strings.Builder
	for _, p := range c.Parents {
		sb.WriteString("parent " + p + "\n")
	}
	person := func(role, name, hash string, t time.Time) {
		_, off := t.Zone()
		sb.WriteString(role + " " + name + " <" + hash + "> " + strconv.FormatInt(t.Unix(), 10) + " " + strconv.Itoa(off) + "\n")
	}
	person("author", c.AuthorName, c.AuthorEmailHash, c.AuthorDate)
	person("committer", c.CommitterName, c.CommitterEmailHash, c.CommitterDate)
	sb.WriteString("\n" + c.Message)
	sum := sha1.Sum([]byte(sb.String()))
	return hex.EncodeToString(sum[:])
}
