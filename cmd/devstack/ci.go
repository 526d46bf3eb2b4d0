package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// ciStats is what one pass cost on the builds-and-deployments lists.
type ciStats struct {
	runs, runs304, deploys, deploys304, statuses int
	writes                                       int
	buildLinks, deployLinks                      int
}

// ciCounts reads the CI requests of the last measured pass and the build
// and deployment links Jira holds.
func ciCounts(s *stack, r runStats) ciStats {
	var c ciStats
	for _, q := range s.gh.Requests() {
		switch {
		case strings.HasSuffix(q.Path, "/actions/runs"):
			c.runs++
			if q.Status == 304 {
				c.runs304++
			}
		case strings.HasSuffix(q.Path, "/statuses"):
			c.statuses++
		case strings.HasSuffix(q.Path, "/deployments"):
			c.deploys++
			if q.Status == 304 {
				c.deploys304++
			}
		}
	}
	for _, ls := range s.jira.AllLinks() {
		for _, l := range ls {
			switch {
			case strings.Contains(l.GlobalID, "/build/"):
				c.buildLinks++
			case strings.Contains(l.GlobalID, "/deployment/"):
				c.deployLinks++
			}
		}
	}
	c.writes = r.jiraWrites
	return c
}

// ciBench prints the cost of builds and deployments: a repository of 500
// commits with 300 workflow runs (two workflows, 30 of them older than
// builds_since) and 60 deployments to staging and production, synced with
// builds and deployments on; then an idle pass, one push with its run and
// deployment, and another idle pass.
func ciBench(ctx context.Context, bin string, out io.Writer) error {
	dir, err := os.MkdirTemp("", "devstack-ci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	const commits, runs, deploys, old = 500, 300, 60, 30
	now := time.Now().UTC().Truncate(time.Second)
	start := now.Add(-60 * 24 * time.Hour)
	step := 60 * 24 * time.Hour / commits
	b := corpus.NewBuilder()
	var shas []string
	for i := range commits {
		msg := fmt.Sprintf("Shop: change %d", i)
		if i%5 == 0 {
			msg = fmt.Sprintf("HADOOP-%d: shop change %d", 5000+i, i)
		}
		var parents []string
		if i > 0 {
			parents = []string{shas[i-1]}
		}
		shas = append(shas, b.Commit(parents, msg, start.Add(time.Duration(i)*step)))
	}
	b.Branch("main", shas[len(shas)-1])
	var repo *githubtest.RepoHandle
	s, err := newScaleStack(dir, func(gh *githubtest.Server) {
		repo = gh.AddCorpusRepo("acme", "shop", 300_000, b.Build())
		repo.SetDefaultBranch("main")
		for i := range old { // before builds_since: never read
			repo.UpsertRun(githubtest.WorkflowRun{ID: int64(1 + i), WorkflowID: 11, Name: "build", HeadBranch: "main", HeadSHA: shas[0],
				Status: "completed", Conclusion: "success", CreatedAt: now.Add(-200 * 24 * time.Hour).Add(time.Duration(i) * time.Minute)})
		}
		for i := range runs - old {
			c := i * (commits - 1) / (runs - old - 1)
			conclusion := "success"
			if i%7 == 3 {
				conclusion = "failure"
			}
			wf, name := int64(11), "build"
			if i%2 == 1 {
				wf, name = 12, "lint"
			}
			repo.UpsertRun(githubtest.WorkflowRun{ID: int64(1000 + i), WorkflowID: wf, Name: name, HeadBranch: "main", HeadSHA: shas[c],
				Status: "completed", Conclusion: conclusion, CreatedAt: start.Add(time.Duration(c)*step + time.Minute)})
		}
		for i := range deploys {
			c := (i + 1) * (commits - 1) / deploys
			env := "staging"
			if i%3 == 2 {
				env = "production"
			}
			at := start.Add(time.Duration(c)*step + 10*time.Minute)
			repo.AddDeployment(githubtest.Deployment{ID: int64(500 + i), SHA: shas[c], Ref: "main", Environment: env, CreatedAt: at})
			repo.AddDeploymentStatus(int64(500+i), githubtest.DeploymentStatus{State: "success", CreatedAt: at.Add(time.Minute)})
		}
	}, nil, "repos: [acme/shop]\n    builds: true\n    deployments: {enabled: true, environments: [staging, production]}")
	if err != nil {
		return err
	}
	defer s.close()

	type pass struct {
		name string
		run  runStats
		ci   ciStats
	}
	var passes []pass
	measure := func(name string) error {
		r, err := s.syncOK(ctx, bin, name)
		if err != nil {
			return err
		}
		passes = append(passes, pass{name, r, ciCounts(s, r)})
		return nil
	}
	if err := measure("backfill"); err != nil {
		return err
	}
	if err := measure("idle pass"); err != nil {
		return err
	}
	head := corpus.Commit{SHA: strings.Repeat("c1", 20), Parents: []string{shas[len(shas)-1]}, AuthorName: "dev",
		AuthorDate: now, CommitterDate: now, Message: "HADOOP-9001: checkout fix"}
	repo.AddCommit(head)
	repo.SetBranch("main", head.SHA)
	repo.UpsertRun(githubtest.WorkflowRun{ID: 9000, WorkflowID: 11, Name: "build", HeadBranch: "main", HeadSHA: head.SHA,
		Status: "completed", Conclusion: "success", CreatedAt: now})
	repo.AddDeployment(githubtest.Deployment{ID: 9000, SHA: head.SHA, Ref: "main", Environment: "production", CreatedAt: now})
	repo.AddDeploymentStatus(9000, githubtest.DeploymentStatus{State: "success", CreatedAt: now})
	if err := measure("push + run + deploy"); err != nil {
		return err
	}
	if err := measure("idle pass"); err != nil {
		return err
	}

	fmt.Fprintf(out, "\nbuilds and deployments: acme/shop, %d commits, %d workflow runs in 2 workflows (%d older than builds_since), %d deployments (staging, production)\n\n",
		commits, runs, old, deploys)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pass\tGitHub calls\tcounted\trun list\t304\tdeployment list\t304\tstatus calls\tJira writes\tbuild links\tdeployment links\twall\t")
	for _, p := range passes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", p.name, p.run.gh.calls, p.run.gh.counted,
			p.ci.runs, p.ci.runs304, p.ci.deploys, p.ci.deploys304, p.ci.statuses, p.ci.writes, p.ci.buildLinks, p.ci.deployLinks, p.run.wall.Round(time.Millisecond))
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "run list lower bound: %d pages of 100 for the %d runs since builds_since; deployment statuses: one call per deployment read (%d)\n",
		ceilDiv(runs-old, 100), runs-old, deploys)
	fmt.Fprintln(out, "idle passes: the run and deployment lists answer 304 (free of rate limit); links stay O(issues × workflows + issues × environments)")
	return nil
}
