// Package indexer turns Git metadata into Jira remote issue links.
//
// A sync pass discovers a provider's repositories, then for each repository
// reads what changed since the last pass (branch heads, tags, pull requests),
// walks the new commits, finds issue keys, checks them against the issues
// that exist in Jira, and writes one remote link per (issue, entity) with a
// stable globalId. Cursors advance only after the Jira writes they cover have
// succeeded, so an interrupted pass is finished by the next one without
// duplicates and without losing a link.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// Source is what the indexer needs from a Git provider. List calls take the
// ListState recorded last time and may answer Unchanged (a 304, free of rate
// limit).
type Source interface {
	OwnerRepos(ctx context.Context, owner string, prev providers.ListState) (providers.Listed[providers.Repo], error)
	Repo(ctx context.Context, fullName string, prev providers.ListState) (providers.Listed[providers.Repo], error)
	// Lookup reads a repository jiralinkd has indexed, as it is now, from
	// its stored identity (GitHub: its stored owner/name, following the
	// redirect of a rename or transfer; GitLab: its numeric id). A deleted
	// repository, or one the token no longer sees, answers an error
	// wrapping providers.ErrNotFound.
	Lookup(ctx context.Context, stored providers.Repo) (providers.Repo, error)
	// RefURL is the web URL of a branch or tag of repo, in the provider's
	// own form.
	RefURL(repo providers.Repo, name string) string
	// PullLabel is how the provider names pull request number n in prose
	// ("PR #96", "MR !96"), as PullRequest.Label carries it.
	PullLabel(number int) string
	Branches(ctx context.Context, repo providers.Repo, prev providers.ListState) (providers.Listed[providers.Branch], error)
	Tags(ctx context.Context, repo providers.Repo, prev providers.ListState) (providers.Listed[providers.Tag], error)
	// Commits streams the history reachable from head, newest first, in
	// pages, from page startPage on (a resumed walk), telling fn each
	// commit's page.
	Commits(ctx context.Context, repo providers.Repo, head string, startPage int, fn func(c providers.Commit, page int) (stop bool, err error)) error
	// PullRequests lists pull/merge requests most recently updated first,
	// from since on where the provider can filter (GitLab updated_after);
	// the caller still stops at its watermark through fn.
	PullRequests(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.PullRequest) (stop bool, err error)) (providers.ListState, bool, error)
}

// Jira is what the indexer needs from Jira.
type Jira interface {
	Projects(ctx context.Context) ([]jiraclient.Project, error)
	ExistingIssues(ctx context.Context, keys []string) (map[string]bool, error)
	UpsertRemoteLink(ctx context.Context, issueKey string, link jiraclient.RemoteLink) (int64, error)
	DeleteRemoteLink(ctx context.Context, issueKey, globalID string) error
}

// Target is one configured provider as the indexer sees it.
type Target struct {
	Name   string         // provider name from the configuration
	Type   providers.Type // github, gitlab
	Source Source
	Owners []string // orgs (GitHub) or groups (GitLab) whose repos are all indexed
	Repos  []string // explicit owner/name
	// Match filters discovered repos by full name (include/exclude globs);
	// nil accepts all.
	Match           func(fullName string) bool
	IncludeArchived bool
	// PruneRemovedRepos removes the links of repos that still exist but
	// are no longer configured; otherwise they keep their links.
	PruneRemovedRepos bool
	// PruneUnreachable removes the links of commits no longer reachable
	// from any branch or tag (after a force-push or a branch deletion).
	PruneUnreachable bool
	// MaxConcurrency is how many of the target's repos sync at once
	// (default 1). Each repo's branches are walked one after another.
	MaxConcurrency int
	// SmartCommits, when set, runs Jira smart-commit commands of new
	// commits on branches it accepts (nil: smart commits off).
	SmartCommits func(branch string) bool
	// RateLimit, if set, is the provider's latest request budget; a pass
	// records it with its outcome (shown by status after a CLI sync).
	RateLimit func() httpx.RateLimit
	// Route, if set, says whether a repo may link keys of a project
	// (providers[].routes); a refused key is dropped, logged, recorded for
	// explain (RouteDropRecorder) and printed by a dry run.
	Route RouteFunc
	// LinkAuthor is what links say about an author: "" or "name" (the
	// author's name), "login" (the provider account, when known) or
	// "none".
	LinkAuthor string
	// Builds links CI runs (GitHub Actions runs, GitLab pipelines) to the
	// issues they build: one link per issue, repo and workflow. Needs a
	// Source that implements CISource.
	Builds bool
	// Deployments, when set, links the deployments to the environments it
	// accepts to the issues they contain: one link per issue, repo and
	// environment (nil: deployments off).
	Deployments func(environment string) bool
	// BuildsSince bounds how far back runs and deployments are read
	// (default DefaultBuildsSince).
	BuildsSince time.Duration
	// FullSweepInterval is how often a pass reads every repository's
	// lists; passes in between read only what the Source's change feeds
	// (PushFeed, PullFeed) report. Zero: every pass is a full sweep.
	FullSweepInterval time.Duration
}

// SmartCommitRunner carries out smart-commit commands exactly once.
type SmartCommitRunner interface {
	Handle(ctx context.Context, c smartcommit.CommitInfo) ([]smartcommit.Result, error)
	// Retry re-attempts commands that failed transiently and whose backoff
	// has passed (once per pass).
	Retry(ctx context.Context) ([]smartcommit.Result, error)
}

// Options configures an Indexer.
type Options struct {
	Store   Store
	Jira    Jira
	Matcher *keys.Matcher
	// Projects, when not empty, limits linking to these Jira project keys.
	Projects []string
	Logger   *slog.Logger
	// RepoLocker, if set, locks each repo in the shared state as well as
	// in this process while it is synced (see RepoLocker).
	RepoLocker RepoLocker
	// DryRun reads everything and writes nothing: no Jira writes and no
	// state changes. The links that would be written go to DryRunOut.
	DryRun    bool
	DryRunOut io.Writer
	// Progress, if set, is called as a repo's commits are walked.
	Progress func(Progress)
	// NegativeCacheTTL is how long "issue does not exist" is believed
	// before Jira is asked again (issues get created after the commit that
	// names them). Default 24h.
	NegativeCacheTTL time.Duration
	Now              func() time.Time
	// Redact, if set, replaces credentials in text before it is written to
	// Jira (link titles and summaries, smart-commit comments) and returns
	// the ids of the rules that matched. OnRedaction is told each rule.
	Redact      func(text string) (string, []string)
	OnRedaction func(rule string)
	// SmartCommits runs smart-commit commands (nil: none run anywhere).
	SmartCommits SmartCommitRunner
	// JiraLimiter bounds concurrent Jira calls across all syncs, adapting
	// the bound to Jira's latency and rate limits, so parallel repos and
	// providers cannot flood Jira. Share one between the indexers of a
	// process; nil: a limiter of its own, up to JiraMaxConcurrency
	// (default DefaultJiraMaxConcurrency).
	JiraLimiter        *JiraLimiter
	JiraMaxConcurrency int
	// KeyCheckMaxWait bounds how long a repo of a pass waits for other
	// repos' issue keys to share a JQL search with (keybroker.go); default
	// DefaultKeyCheckMaxWait.
	KeyCheckMaxWait time.Duration
	// OnRepoStart and OnRepoDone, if set, bracket each repo sync (status
	// page, metrics).
	OnRepoStart func(state.RepoKey)
	OnRepoDone  func(state.RepoKey, RepoReport)
	// Hint names the setting to fix for a failure; stored with it.
	Hint Hinter
	// OnBackfills, if set, is told after a pass that left backfills to the
	// lane (BackfillLane) which provider's lane has work: a daemon starts
	// it, whatever started the pass (its schedule, a webhook, a resync).
	OnBackfills func(provider string)
	// BackfillLane makes passes leave repositories never synced completely
	// to Backfill (a daemon runs it beside the passes), so that a backfill
	// of hours cannot hold up the passes of indexed repositories. Without
	// it a pass syncs them itself, after the others (a CLI sync).
	BackfillLane bool
	// StatusIconsURL, if set, is the base URL of the status icons of
	// build and deployment links (ci-success.png, ci-failure.png,
	// ci-running.png, ci-pending.png, ci-cancelled.png); without it the
	// links carry the status as the icon's title only.
	StatusIconsURL string
}

// Progress reports how far a repo's sync has come.
type Progress struct {
	Provider, Repo, Branch string
	Commits                int // new commits walked so far in this repo
}

// Indexer runs sync passes. It is safe for concurrent use by passes over
// different providers; a per-repo lock keeps two passes (schedule and a
// manual trigger) from syncing the same repo at once.
type Indexer struct {
	opts  Options
	log   *slog.Logger
	locks sync.Map // state.RepoKey → *sync.Mutex

	projMu    sync.Mutex
	projCache map[string]bool
	projAt    time.Time

	backfill backfillQueue // repos a running pass will backfill (backfill.go)
}

// projectCacheTTL bounds how stale the Jira project list may be for
// targeted (webhook) syncs; full passes always read it afresh.
const projectCacheTTL = 5 * time.Minute

// New creates an Indexer.
func New(opts Options) (*Indexer, error) {
	if opts.Store == nil || opts.Jira == nil || opts.Matcher == nil {
		return nil, errors.New("indexer: Store, Jira and Matcher are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NegativeCacheTTL == 0 {
		opts.NegativeCacheTTL = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DryRunOut == nil {
		opts.DryRunOut = io.Discard
	}
	if opts.KeyCheckMaxWait <= 0 {
		opts.KeyCheckMaxWait = DefaultKeyCheckMaxWait
	}
	if opts.JiraLimiter == nil {
		opts.JiraLimiter = NewJiraLimiter(JiraLimitOptions{Max: opts.JiraMaxConcurrency})
	}
	opts.Jira = &limitedJira{Jira: opts.Jira, lim: opts.JiraLimiter}
	return &Indexer{opts: opts, log: opts.Logger}, nil
}

// Report summarises one pass over one provider.
type Report struct {
	Provider string
	Repos    []RepoReport
	// Err is set when the pass could not even start (Jira projects or repo
	// discovery failed); Repos then lists what could be done. Hint names
	// the setting to fix for it, when one is known.
	Err  error
	Hint string
	// Removed lists repos whose links were removed in this pass (deleted
	// on the provider, or no longer configured with prune_removed_repos).
	Removed []string
	// Sweep tells that the pass read every repository's lists; Unchanged
	// counts the indexed repositories a pass between sweeps found
	// unchanged (not synced).
	Sweep     bool
	Unchanged int
	// Backfilling lists the repositories never synced completely that the
	// pass left to the backfill lane (Options.BackfillLane).
	Backfilling []providers.Repo

	// What the pass records with its outcome (see updateProviderHealth):
	// checked: every repository was checked; marks: the change feeds'
	// new marks; sweptAt: the start of a full sweep.
	checked bool
	marks   map[string]time.Time
	sweptAt time.Time
	// backfillFailed counts the Backfilling repos whose last try failed.
	backfillFailed int
}

// Failed counts the repos that failed, plus one if the pass itself failed.
func (r Report) Failed() int {
	n := 0
	for _, rr := range r.Repos {
		if rr.Err != nil {
			n++
		}
	}
	if r.Err != nil {
		n++
	}
	return n
}

// RepoReport is the outcome of one repo's sync.
type RepoReport struct {
	Repo                       string
	Commits, Branches, Pulls   int // new entities handled
	Runs, Deployments          int // CI runs and deployments read (builds and deployments step)
	LinksWritten, LinksDeleted int
	LinksUpdated               int // of LinksWritten, links that existed and changed
	Duration                   time.Duration
	Err                        error
	Hint                       string // the setting to fix for Err, if known
}

// Sync runs one pass over a provider: every configured repo, or only the one
// named by onlyRepo (owner/name) when it is not empty. A failing repo does
// not stop the others. See Pass.
func (ix *Indexer) Sync(ctx context.Context, t Target, onlyRepo string) Report {
	return ix.Pass(ctx, t, PassOptions{OnlyRepo: onlyRepo})
}

// Pass runs one pass over a provider as planned by plan.go: a full sweep
// when one is due (or asked for), else only what changed; indexed repos
// first, then backfills most recently pushed first (or, with
// Options.BackfillLane, left to Backfill).
func (ix *Indexer) Pass(ctx context.Context, t Target, o PassOptions) Report {
	rep := Report{Provider: t.Name}
	start := ix.opts.Now()
	if ix.opts.SmartCommits != nil && t.SmartCommits != nil && !ix.opts.DryRun {
		if _, err := ix.opts.SmartCommits.Retry(ctx); err != nil {
			ix.log.Warn("smart commit retries", "err", err)
		}
	}
	projects, err := ix.projects(ctx)
	if err != nil {
		// Nothing can be linked: every repo this pass meant to sync
		// failed, as far as the last discovery knows them.
		rep.Err = fmt.Errorf("read Jira projects: %w", err)
		covered := ix.coveredRepos(t)
		if o.OnlyRepo != "" {
			covered = filterRepo(covered, o.OnlyRepo)
		}
		rep.Hint = ix.recordPass(t, rep, covered, false, o.OnlyRepo != "")
		return rep
	}
	p := ix.plan(ctx, t, o, start)
	if p.derr != nil {
		rep.Err = p.derr
		ix.log.Error("repository discovery incomplete", "provider", t.Name, "err", p.derr)
	} else if len(p.missing) > 0 {
		rep.Err = fmt.Errorf("configured repositories not found (deleted, renamed beyond redirect, or not visible to the token): %s", strings.Join(p.missing, ", "))
	}
	if o.OnlyRepo != "" && len(p.repos) == 0 && len(p.unreached) == 0 && p.derr == nil {
		rep.Err = fmt.Errorf("repository %s not found: %s's discovery did not find it (deleted, renamed, archived, or not visible to the token)", o.OnlyRepo, t.Name)
	}
	if !ix.opts.DryRun && o.OnlyRepo == "" && p.states != nil {
		// Before any repo starts: the backfills waiting their turn, for
		// the progress views (backfill.go).
		ix.backfill.queue(t, p.backfill, p.states)
	}
	rep.Sweep, rep.Unchanged = p.sweep, p.unchanged
	ix.log.Info("pass planned", "provider", t.Name, "sweep", p.sweep, "repos", len(p.repos), "to_sync", len(p.fresh),
		"unchanged", p.unchanged, "backfills", len(p.backfill))
	rep.Repos = ix.syncPlanned(ctx, t, p.fresh, projects)
	if ix.opts.BackfillLane {
		// A one-repo pass (a webhook for a repo not indexed yet, a
		// resync) leaves a backfill to the lane too: hours of listing in
		// a webhook worker would hold up every other delivery.
		rep.Backfilling, rep.backfillFailed = p.backfill, p.backfillFailed
	} else if ctx.Err() == nil {
		rep.Repos = append(rep.Repos, ix.syncBackfills(ctx, t, p.backfill, projects)...)
	}
	if p.pruneOK && p.derr == nil && ctx.Err() == nil {
		removed, perr := ix.pruneVanished(ctx, t, p.repos)
		rep.Removed = removed
		rep.Err = errors.Join(rep.Err, perr)
	} else if !p.pruneOK && ctx.Err() == nil {
		// Between sweeps: a repo whose lists answered 404 may be gone.
		removed, perr := ix.pruneGone(ctx, t, &rep)
		rep.Removed = removed
		rep.Err = errors.Join(rep.Err, perr)
	}
	if o.OnlyRepo == "" && p.derr == nil {
		rep.checked = true
		rep.marks = p.marks
		if p.sweep {
			rep.sweptAt = start
		}
	}
	rep.Hint = ix.recordPass(t, rep, p.unreached, true, o.OnlyRepo != "")
	if rep.checked && !rep.interrupted() {
		// After the marks (recordPass): a crash in between costs a
		// listing, never a push.
		if err := ix.saveFeeds(t, p.feeds); err != nil {
			ix.log.Error("record the change feeds' state", "provider", t.Name, "err", err)
		}
	}
	if len(rep.Backfilling) > 0 && ix.opts.OnBackfills != nil {
		ix.opts.OnBackfills(t.Name)
	}
	return rep
}

// cachedProjects is projects, reusing a list younger than projectCacheTTL.
func (ix *Indexer) cachedProjects(ctx context.Context) (map[string]bool, error) {
	ix.projMu.Lock()
	if ix.projCache != nil && ix.opts.Now().Sub(ix.projAt) < projectCacheTTL {
		p := ix.projCache
		ix.projMu.Unlock()
		return p, nil
	}
	ix.projMu.Unlock()
	return ix.projects(ctx)
}

// projects returns the Jira project keys that links may go to.
func (ix *Indexer) projects(ctx context.Context) (map[string]bool, error) {
	out, err := ix.readProjects(ctx)
	if err != nil {
		return nil, err
	}
	ix.projMu.Lock()
	ix.projCache, ix.projAt = out, ix.opts.Now()
	ix.projMu.Unlock()
	return out, nil
}

func (ix *Indexer) readProjects(ctx context.Context) (map[string]bool, error) {
	ps, err := ix.opts.Jira.Projects(ctx)
	if err != nil {
		return nil, err
	}
	allow := map[string]bool{}
	for _, p := range ix.opts.Projects {
		allow[p] = true
	}
	out := make(map[string]bool, len(ps))
	for _, p := range ps {
		if len(allow) == 0 || allow[p.Key] {
			out[p.Key] = true
		}
	}
	return out, nil
}

// syncPlanned syncs the planned repos with up to t.MaxConcurrency at once;
// reports keep the repos' order.
func (ix *Indexer) syncPlanned(ctx context.Context, t Target, planned []plannedRepo, projects map[string]bool) []RepoReport {
	n := max(t.MaxConcurrency, 1)
	out := make([]RepoReport, len(planned))
	// The key broker batches the repos' issue-key checks and holds the
	// concurrency slots (a repo waiting on it lists nothing and frees its
	// slot); keybroker.go.
	keys := ix.newKeyBroker(len(planned), n, ctx.Done())
	if len(planned) > 1 {
		// One repo has nobody to share searches with; its linker checks
		// keys in the background, overlapped with its listing.
		ctx = withKeyBroker(ctx, keys)
	}
	var wg sync.WaitGroup
	for i, pr := range planned {
		if ctx.Err() != nil {
			out = out[:i]
			keys.skip(ctx, len(planned)-i)
			break
		}
		keys.acquire()
		wg.Add(1)
		go func() {
			defer func() { keys.finished(ctx); wg.Done() }()
			out[i] = ix.syncRepoCurrent(ctx, t, pr.repo, projects, pr.scope)
		}()
	}
	wg.Wait()
	keys.close()
	return out
}

func (ix *Indexer) repoLock(k state.RepoKey) *sync.Mutex {
	m, _ := ix.locks.LoadOrStore(k, &sync.Mutex{})
	return m.(*sync.Mutex)
}

// limitedJira bounds concurrent Jira calls by the limiter and marks their
// errors as Jira's (JiraError).
type limitedJira struct {
	Jira
	lim *JiraLimiter
}

// call runs f in a slot of the limiter and marks its error as Jira's.
func (b *limitedJira) call(ctx context.Context, f func(ctx context.Context) error) error {
	return jiraErr(b.lim.Do(ctx, f))
}

func (b *limitedJira) Projects(ctx context.Context) (ps []jiraclient.Project, err error) {
	err = b.call(ctx, func(ctx context.Context) error {
		ps, err = b.Jira.Projects(ctx)
		return err
	})
	return ps, err
}

func (b *limitedJira) ExistingIssues(ctx context.Context, keys []string) (m map[string]bool, err error) {
	err = b.call(ctx, func(ctx context.Context) error {
		m, err = b.Jira.ExistingIssues(ctx, keys)
		return err
	})
	return m, err
}

func (b *limitedJira) UpsertRemoteLink(ctx context.Context, issueKey string, link jiraclient.RemoteLink) (id int64, err error) {
	err = b.call(ctx, func(ctx context.Context) error {
		id, err = b.Jira.UpsertRemoteLink(ctx, issueKey, link)
		return err
	})
	return id, err
}

func (b *limitedJira) DeleteRemoteLink(ctx context.Context, issueKey, globalID string) error {
	return b.call(ctx, func(ctx context.Context) error {
		return b.Jira.DeleteRemoteLink(ctx, issueKey, globalID)
	})
}
