package corpus

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The embedded ZooKeeper corpus; provenance in data/README.md.
var (
	//go:embed data/zookeeper-commits.jsonl.gz
	zkCommits []byte
	//go:embed data/zookeeper-refs.jsonl.gz
	zkRefs []byte
)

// ErrInvalid is wrapped by every error about malformed or inconsistent
// input: a bad JSON line, a duplicate commit, a parent or ref pointing at a
// commit the history does not hold.
var ErrInvalid = errors.New("invalid history")

// ZooKeeper decodes the embedded Apache ZooKeeper corpus (5,343 commits,
// 22 branches, 184 tags). Each call decodes afresh (tens of milliseconds);
// nothing is cached package-wide, so callers keep the value they need.
func ZooKeeper() (*History, error) {
	commits, err := gzip.NewReader(bytes.NewReader(zkCommits))
	if err != nil {
		return nil, fmt.Errorf("corpus: zookeeper commits: %w", err)
	}
	refs, err := gzip.NewReader(bytes.NewReader(zkRefs))
	if err != nil {
		return nil, fmt.Errorf("corpus: zookeeper refs: %w", err)
	}
	h, err := Load(commits, refs)
	if err != nil {
		return nil, fmt.Errorf("corpus: zookeeper: %w", err)
	}
	return h, nil
}

type commitLine struct {
	SHA                string   `json:"sha"`
	Parents            []string `json:"parents"`
	AuthorName         string   `json:"author_name"`
	AuthorEmailHash    string   `json:"author_email_hash"`
	AuthorDate         string   `json:"author_date"`
	CommitterName      string   `json:"committer_name"`
	CommitterEmailHash string   `json:"committer_email_hash"`
	CommitterDate      string   `json:"committer_date"`
	Message            string   `json:"message"`
}

type refLine struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	SHA  string `json:"sha"`
}

// Load reads a history from two JSON Lines streams (already decompressed)
// in the corpus format described in data/README.md: one commit object per
// line, and one ref object per line. Blank lines are skipped. Every parent
// and every ref must name a commit of the stream; violations wrap
// ErrInvalid.
func Load(commits, refs io.Reader) (*History, error) {
	var cs []Commit
	err := eachLine(commits, func(n int, line []byte) error {
		var l commitLine
		if err := json.Unmarshal(line, &l); err != nil {
			return fmt.Errorf("commits line %d: %w: %w", n, ErrInvalid, err)
		}
		ad, err := time.Parse(time.RFC3339, l.AuthorDate)
		if err != nil {
			return fmt.Errorf("commits line %d: author_date: %w: %w", n, ErrInvalid, err)
		}
		cd, err := time.Parse(time.RFC3339, l.CommitterDate)
		if err != nil {
			return fmt.Errorf("commits line %d: committer_date: %w: %w", n, ErrInvalid, err)
		}
		cs = append(cs, Commit{
			SHA: l.SHA, Parents: l.Parents,
			AuthorName: l.AuthorName, AuthorEmailHash: l.AuthorEmailHash, AuthorDate: ad,
			CommitterName: l.CommitterName, CommitterEmailHash: l.CommitterEmailHash, CommitterDate: cd,
			Message: l.Message,
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var rs []Ref
	err = eachLine(refs, func(n int, line []byte) error {
		var l refLine
		if err := json.Unmarshal(line, &l); err != nil {
			return fmt.Errorf("refs line %d: %w: %w", n, ErrInvalid, err)
		}
		k := RefKind(l.Kind)
		if k != KindBranch && k != KindTag {
			return fmt.Errorf("refs line %d: kind %q: %w", n, l.Kind, ErrInvalid)
		}
		rs = append(rs, Ref{Name: l.Name, Kind: k, SHA: l.SHA})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newHistory(cs, rs)
}

func eachLine(r io.Reader, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read line %d: %w", n+1, err)
	}
	return nil
}

// newHistory indexes commits (kept in the given order) and refs. It takes
// ownership of both slices.
func newHistory(commits []Commit, refs []Ref) (*History, error) {
	h := &History{
		commits: commits,
		index:   make(map[string]int32, len(commits)),
		parents: make([][]int32, len(commits)),
		dates:   make([]int64, len(commits)),
	}
	for i, c := range commits {
		if c.SHA == "" {
			return nil, fmt.Errorf("commit #%d has no SHA: %w", i+1, ErrInvalid)
		}
		if _, dup := h.index[c.SHA]; dup {
			return nil, fmt.Errorf("commit %s appears twice: %w", c.SHA, ErrInvalid)
		}
		h.index[c.SHA] = int32(i)
		h.dates[i] = c.CommitterDate.Unix()
	}
	// One backing array for all parent lists keeps a 200,000-commit
	// history at a handful of allocations.
	total := 0
	for _, c := range commits {
		total += len(c.Parents)
	}
	flat := make([]int32, 0, total)
	for i, c := range commits {
		start := len(flat)
		for _, p := range c.Parents {
			pi, ok := h.index[p]
			if !ok {
				return nil, fmt.Errorf("commit %s: parent %s is not in the history: %w", c.SHA, p, ErrInvalid)
			}
			flat = append(flat, pi)
		}
		h.parents[i] = flat[start:len(flat):len(flat)]
	}
	for _, r := range refs {
		if _, ok := h.index[r.SHA]; !ok {
			return nil, fmt.Errorf("%s %s: commit %s is not in the history: %w", r.Kind, r.Name, r.SHA, ErrInvalid)
		}
		switch r.Kind {
		case KindBranch:
			h.branches = append(h.branches, r)
		case KindTag:
			h.tags = append(h.tags, r)
		default:
			return nil, fmt.Errorf("ref %s: kind %q: %w", r.Name, r.Kind, ErrInvalid)
		}
	}
	for _, refs := range [][]Ref{h.branches, h.tags} {
		slices.SortFunc(refs, func(a, b Ref) int { return strings.Compare(a.Name, b.Name) })
		for i := 1; i < len(refs); i++ {
			if refs[i].Name == refs[i-1].Name {
				return nil, fmt.Errorf("%s %s defined twice: %w", refs[i].Kind, refs[i].Name, ErrInvalid)
			}
		}
	}
	return h, nil
}

// With returns a new History holding h's commits and refs plus the given
// commits, which may build on each other and on h's commits (each commit's
// parents must be in h or earlier in commits). h itself is unchanged. A
// commit whose SHA h already holds is an error; SHA-less commits get
// ContentSHA.
//
// It copies h's indexes, so it costs O(h.Len()): meant for a fake server
// adding a few commits between syncs, not for building large histories
// (use a Builder).
func (h *History) With(commits ...Commit) (*History, error) {
	cs := make([]Commit, 0, len(h.commits)+len(commits))
	for _, c := range commits {
		c = clone(c)
		if c.SHA == "" {
			c.SHA = ContentSHA(c)
		}
		cs = append(cs, c)
	}
	// New commits first: they are the newest, as in the corpus order.
	cs = append(cs, h.commits...)
	refs := make([]Ref, 0, len(h.branches)+len(h.tags))
	refs = append(append(refs, h.branches...), h.tags...)
	return newHistory(cs, refs)
}
