package corpus_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// dag is a random history: commit i's parents are earlier commits, its
// date is close to its parents' with many ties and some clock skew.
type dag struct {
	h       *corpus.History
	shas    []string // by creation order
	parents [][]int
	secs    []int64
}

func randomDAG(seed uint64, n int) dag {
	r := rand.New(rand.NewPCG(seed, 7))
	b := corpus.NewBuilder()
	d := dag{parents: make([][]int, n), secs: make([]int64, n)}
	for i := range n {
		var ps []int
		switch x := r.IntN(20); {
		case i == 0 || x == 0:
			// root
		case x <= 3 && i > 1:
			a, c := r.IntN(i), r.IntN(i)
			ps = []int{a}
			if c != a {
				ps = append(ps, c)
			}
		default:
			// Mostly build on a recent commit, as branches do.
			ps = []int{max(0, i-1-r.IntN(min(i, 5)))}
		}
		sec := int64(i / 3) // ties
		if r.IntN(10) == 0 {
			sec -= int64(r.IntN(20)) // skew: older than its parents
		}
		var parentSHAs []string
		for _, p := range ps {
			parentSHAs = append(parentSHAs, d.shas[p])
		}
		d.parents[i] = ps
		d.secs[i] = sec
		d.shas = append(d.shas, b.Commit(parentSHAs, fmt.Sprintf("c%d", i), t0.Add(time.Duration(sec)*time.Second)))
	}
	b.Branch("main", d.shas[n-1])
	d.h = b.Build()
	return d
}

// referenceLog is git's revision walk written as plainly as git wrote it
// (revision.c with commit_list_insert_by_date): an ordered list, a new entry
// inserted before the first strictly older one.
func (d dag) referenceLog(head int) []string {
	seen := map[int]bool{head: true}
	list := []int{head}
	var out []string
	for len(list) > 0 {
		c := list[0]
		list = list[1:]
		out = append(out, d.shas[c])
		for _, p := range d.parents[c] {
			if seen[p] {
				continue
			}
			seen[p] = true
			at := len(list)
			for j, e := range list {
				if d.secs[e] < d.secs[p] {
					at = j
					break
				}
			}
			list = slices.Insert(list, at, p)
		}
	}
	return out
}

func TestLogMatchesReferenceWalk(t *testing.T) {
	for seed := range uint64(20) {
		d := randomDAG(seed, 300)
		for _, head := range []int{299, 250, 123, 10, 0} {
			got, want := d.h.Log(d.shas[head]), d.referenceLog(head)
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d head c%d: Log differs from the reference walk\n got %v\nwant %v", seed, head, names(d, got), names(d, want))
			}
		}
	}
}

// TestLogMatchesGit replays random histories into a real repository with
// git fast-import and compares with `git log`. Skipped without git.
func TestLogMatchesGit(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	for _, seed := range []uint64{1, 2, 3} {
		d := randomDAG(seed, 200)
		dir := t.TempDir()
		git := func(stdin []byte, args ...string) []byte {
			t.Helper()
			cmd := exec.Command(gitBin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(dir, "nocfg"), "HOME="+dir)
			cmd.Stdin = bytes.NewReader(stdin)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
			return out
		}
		git(nil, "init", "-q", "--bare", ".")
		var fi bytes.Buffer
		for i := range d.shas {
			fmt.Fprintf(&fi, "commit refs/heads/c%d\nmark :%d\n", i, i+1)
			fmt.Fprintf(&fi, "author T <t@example.invalid> %d +0000\ncommitter T <t@example.invalid> %d +0000\n", t0.Unix()+d.secs[i], t0.Unix()+d.secs[i])
			msg := fmt.Sprintf("c%d", i)
			fmt.Fprintf(&fi, "data %d\n%s\n", len(msg), msg)
			for j, p := range d.parents[i] {
				kw := "from"
				if j > 0 {
					kw = "merge"
				}
				fmt.Fprintf(&fi, "%s :%d\n", kw, p+1)
			}
			fi.WriteString("\n")
		}
		git(fi.Bytes(), "fast-import", "--quiet")
		for _, head := range []int{199, 150, 77} {
			out := strings.Fields(string(git(nil, "log", "--format=%s", fmt.Sprintf("refs/heads/c%d", head))))
			if got := names(d, d.h.Log(d.shas[head])); !slices.Equal(got, out) {
				t.Fatalf("seed %d head c%d:\n Log     %v\n git log %v", seed, head, got, out)
			}
		}
	}
}

func names(d dag, shas []string) []string {
	idx := make(map[string]int, len(d.shas))
	for i, s := range d.shas {
		idx[s] = i
	}
	out := make([]string, len(shas))
	for i, s := range shas {
		out[i] = fmt.Sprintf("c%d", idx[s])
	}
	return out
}

func TestLogChildBeforeParentWithMonotoneDates(t *testing.T) {
	// Merges, several roots, ties-free increasing dates: Log must be a
	// topological order (every commit after all its listed children).
	b := corpus.NewBuilder()
	r := rand.New(rand.NewPCG(42, 42))
	var shas []string
	for i := range 500 {
		var ps []string
		if i > 0 && r.IntN(30) != 0 {
			ps = append(ps, shas[r.IntN(i)])
			if r.IntN(5) == 0 {
				if q := shas[r.IntN(i)]; q != ps[0] {
					ps = append(ps, q)
				}
			}
		}
		shas = append(shas, b.Commit(ps, fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)*time.Minute)))
	}
	h := b.Build()
	log := h.Log(shas[499])
	pos := make(map[string]int)
	for i, s := range log {
		pos[s] = i
	}
	for _, s := range log {
		c, _ := h.Commit(s)
		for _, p := range c.Parents {
			if pos[p] <= pos[s] {
				t.Fatalf("parent %s at %d not after child %s at %d", p, pos[p], s, pos[s])
			}
		}
	}
	if len(log) != len(h.Reachable(shas[499])) {
		t.Errorf("log has %d commits, %d reachable", len(log), len(h.Reachable(shas[499])))
	}
}

func TestBuilderDeterministicAndForcePush(t *testing.T) {
	script := func() (*corpus.History, []string) {
		b := corpus.NewBuilder()
		a := b.Commit(nil, "a", t0)
		c1 := b.Commit([]string{a}, "b1", t0.Add(time.Minute))
		c2 := b.Commit([]string{a}, "b2", t0.Add(2*time.Minute))
		m := b.Commit([]string{c1, c2}, "merge", t0.Add(3*time.Minute))
		b.Branch("main", m)
		b.Branch("feature", c2)
		b.Tag("v1", c1)
		// Force-push main back to c1: the merge stays in the History but
		// is no longer reachable from any ref.
		b.Branch("main", c1)
		if again := b.Commit(nil, "a", t0); again != a {
			t.Errorf("same content gave %s then %s", a, again)
		}
		return b.Build(), []string{a, c1, c2, m}
	}
	h1, s1 := script()
	h2, s2 := script()
	if !slices.Equal(s1, s2) {
		t.Errorf("SHAs differ between identical scripts: %v vs %v", s1, s2)
	}
	for _, s := range s1 {
		if len(s) != 40 || strings.Trim(s, "0123456789abcdef") != "" {
			t.Errorf("SHA %q is not 40 hex digits", s)
		}
	}
	if h1.Len() != 4 || h2.Len() != 4 {
		t.Errorf("len = %d", h1.Len())
	}
	main, _ := h1.Branch("main")
	if main.SHA != s1[1] {
		t.Errorf("main = %s, want the force-pushed %s", main.SHA, s1[1])
	}
	if got := h1.Log(s1[3]); !slices.Equal(got, []string{s1[3], s1[2], s1[1], s1[0]}) {
		t.Errorf("Log(merge) = %v", got)
	}
	reach := h1.Reachable(main.SHA, s1[2])
	if len(reach) != 3 || reach[s1[3]] {
		t.Errorf("Reachable(main, feature) = %v", reach)
	}
	if got := []string{h1.Branches()[0].Name, h1.Branches()[1].Name}; !slices.Equal(got, []string{"feature", "main"}) {
		t.Errorf("branches = %v", got)
	}
	c, _ := h1.Commit(s1[3])
	if c.AuthorName != corpus.BuilderAuthorName || !c.CommitterDate.Equal(t0.Add(3*time.Minute)) || c.Message != "merge" {
		t.Errorf("merge commit = %+v", c)
	}
}

func TestBuilderPanicsOnUnknownParent(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	corpus.NewBuilder().Commit([]string{"nope"}, "x", t0)
}

func TestLargeLinearHistory(t *testing.T) {
	n := 200_000
	if testing.Short() || raceEnabled {
		n = 20_000
	}
	b := corpus.NewBuilder()
	prev := b.Commit(nil, "root", t0)
	for i := 1; i < n; i++ {
		prev = b.Commit([]string{prev}, "ZOOKEEPER-1: change", t0.Add(time.Duration(i)*time.Second))
	}
	b.Branch("main", prev)
	h := b.Build()
	start := time.Now()
	log := h.Log(prev)
	t.Logf("Log of %d commits: %v", n, time.Since(start))
	if len(log) != n || log[0] != prev {
		t.Fatalf("len = %d", len(log))
	}
	last, _ := h.Commit(log[n-1])
	if len(last.Parents) != 0 || last.Message != "root" {
		t.Errorf("last = %+v, want the root", last)
	}
}
