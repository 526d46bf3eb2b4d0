package indexer_test

import (
	"encoding/json"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// stormSeed seeds the fault storm: the same seed gives the same faults on
// the same requests, so a failure can be replayed.
const stormSeed = 20261204

// linkContents is every link the fake Jira holds as issue → globalId → the
// link's JSON without its Jira id and self URL (which depend on the order
// of creation). A second link with the same globalId on an issue fails t.
func linkContents(t *testing.T, j *jiratest.Server) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for issue, links := range j.AllLinks() {
		for _, l := range links {
			if out[issue] == nil {
				out[issue] = map[string]string{}
			}
			if _, dup := out[issue][l.GlobalID]; dup {
				t.Errorf("duplicate link %s on %s", l.GlobalID, issue)
			}
			l.ID, l.Self = 0, ""
			b, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			out[issue][l.GlobalID] = string(b)
		}
	}
	return out
}

// TestFaultStormCompletesWithinThreePasses: with GitHub and Jira each
// answering 20% of requests with 500, 502 or 503 (and half of the failed
// Jira writes applied before the error is answered), a full backfill of
// the ZooKeeper corpus still ends, within three passes, with exactly the
// links of a clean run, each once.
func TestFaultStormCompletesWithinThreePasses(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	clean := newStack(t, hist, nil)
	mustOK(t, clean.sync(t))
	want := linkContents(t, clean.jira)

	s := newStack(t, hist, nil)
	s.gh.FailRandomly(0.2, rand.New(rand.NewPCG(stormSeed, 1)))
	s.jira.FailRandomly(jiratest.Storm{Rate: 0.2, AfterApply: 0.5, Rand: rand.New(rand.NewPCG(stormSeed, 2))})

	const maxPasses = 3
	passes := 0
	for passes < maxPasses {
		passes++
		rep := s.sync(t)
		failed := rep.Failed()
		t.Logf("pass %d: %d failures", passes, failed)
		for _, r := range rep.Repos {
			if r.Err != nil {
				t.Logf("pass %d: repo %s: %v", passes, r.Repo, r.Err)
			}
		}
		if rep.Err != nil {
			t.Logf("pass %d: %v", passes, rep.Err)
		}
		if failed == 0 {
			break
		}
		if passes == maxPasses {
			t.Fatalf("the last of %d passes still failed", maxPasses)
		}
	}
	calls := s.jira.Calls()
	ghFaults := 0
	for _, r := range s.gh.Requests() {
		if r.Status >= 500 {
			ghFaults++
		}
	}
	t.Logf("converged after %d pass(es); Jira: %d calls, %d failed (%d of them after applying the write); GitHub: %d calls, %d failed",
		passes, calls.Total, calls.Faults, calls.AppliedFaults, len(s.gh.Requests()), ghFaults)
	if calls.Faults < calls.Total/10 || calls.AppliedFaults == 0 || ghFaults == 0 {
		t.Fatal("the storm did not happen")
	}

	got := linkContents(t, s.jira)
	var missing, extra, differ []string
	for issue, gids := range want {
		for gid, body := range gids {
			switch g, ok := got[issue][gid]; {
			case !ok:
				missing = append(missing, issue+" ← "+gid)
			case g != body:
				differ = append(differ, issue+" ← "+gid)
			}
		}
	}
	for issue, gids := range got {
		for gid := range gids {
			if _, ok := want[issue][gid]; !ok {
				extra = append(extra, issue+" ← "+gid)
			}
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(differ)
	if len(missing)+len(extra)+len(differ) > 0 {
		t.Errorf("after the storm, the links differ from a clean run: %d missing %v, %d extra %v, %d with other content %v",
			len(missing), head(missing), len(extra), head(extra), len(differ), head(differ))
	}
	if n := countLinks(jiraLinks(t, s.jira)); n != countLinks(jiraLinks(t, clean.jira)) || n < 4000 {
		t.Errorf("%d links after the storm, %d after a clean run", n, countLinks(jiraLinks(t, clean.jira)))
	}
}
