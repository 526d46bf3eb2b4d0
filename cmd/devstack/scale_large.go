package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// largeOrgRepos and largeOrgChanged size scenario (d).
const (
	largeOrgRepos   = 5000
	largeOrgChanged = 10
)

// scaleLargeOrg is scenario (d): a pass over an organisation of 5,000
// repositories of which 10 received a push, at 50 ms per GitHub call:
// between sweeps (the change feeds: the pushed-first repository list and
// one pull request search) against a full sweep (`sync --full`, every
// repository's lists, as every pass read them before the feeds).
func scaleLargeOrg(ctx context.Context, dir, bin string, out io.Writer) error {
	var repos []*githubtest.RepoHandle
	heads := make([]string, largeOrgRepos)
	// The repositories were last pushed over the past weeks, one every
	// five minutes, as in an organisation that has been at work a while.
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	s, err := newScaleStackClock(dir, now, func(gh *githubtest.Server) {
		for i := range largeOrgRepos {
			offset.Store(int64(-time.Duration(largeOrgRepos-i) * 5 * time.Minute))
			h := tinyHistory(i)
			tip, _ := h.Branch("main")
			heads[i] = tip.SHA
			repos = append(repos, gh.AddCorpusRepo("fleet", fmt.Sprintf("service-%04d", i), int64(200_000+i), h))
		}
		offset.Store(0)
	}, nil, "orgs: [fleet]")
	if err != nil {
		return err
	}
	defer s.close()
	backfill, err := s.syncOK(ctx, bin, "backfill")
	if err != nil {
		return err
	}
	push := func(round int) {
		for k := range largeOrgChanged {
			i := (round*largeOrgChanged + k) * (largeOrgRepos / (3 * largeOrgChanged))
			at := time.Date(2026, 1, 1, 0, round, k, 0, time.UTC)
			sha := repos[i].AddCommit(corpus.Commit{Parents: []string{heads[i]}, AuthorName: "dev", AuthorDate: at, CommitterName: "dev", CommitterDate: at,
				Message: fmt.Sprintf("HADOOP-%d: hotfix %d of service %d", 500_000+round*100+k, round, i)})
			repos[i].SetBranch("main", sha)
			heads[i] = sha
		}
	}
	s.gh.SetLatency(scaleLatency)
	push(0)
	feeds, err := s.syncOK(ctx, bin, "pass between sweeps")
	if err != nil {
		return err
	}
	push(1)
	sweep, err := s.measured(ctx, bin, "sync", "--full")
	if err != nil {
		return err
	}
	if sweep.exit != 0 {
		return fmt.Errorf("full sweep: jiralinkd sync exit %d:\n%s", sweep.exit, indent(sweep.output))
	}
	fmt.Fprintf(out, "\n(d) %d repositories in one organisation, %d of them pushed to, %s per GitHub call, max_concurrency: 8\n\n",
		largeOrgRepos, largeOrgChanged, scaleLatency)
	runTable(out, []string{"backfill (no latency)", "pass between sweeps", "full sweep (sync --full)"}, backfill, feeds, sweep)
	fmt.Fprintf(out, "\npass between sweeps: %d GitHub calls, %s, %d Jira writes; full sweep (what every pass cost before the change feeds): %d calls, %s (%.0f× the calls, %.0f× the time)\n",
		feeds.gh.calls, feeds.wall.Round(time.Millisecond), feeds.jiraWrites, sweep.gh.calls, sweep.wall.Round(time.Millisecond),
		float64(sweep.gh.calls)/float64(max(feeds.gh.calls, 1)), sweep.wall.Seconds()/max(feeds.wall.Seconds(), 0.001))
	return nil
}
