package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// batchSize is how many entities are collected before their keys are
// validated (one JQL search per 100 unknown keys) and their links written.
const batchSize = 100

// linker writes the links of one repo's entities in batches. It is used by
// one goroutine; the writes of full batches run in the background (see
// add), so listing and Jira writes overlap.
type linker struct {
	ix       *Indexer
	projects map[string]bool
	pending  []entity
	// route, when set, restricts the projects keys may link to (routes.go);
	// dropped counts the keys it refused, drops those to record.
	route   func(project string) (bool, string)
	dropped int
	drops   []state.RouteDrop
	// keys, when set, resolves unknown issue keys with those of the other
	// repos of the pass (keybroker.go); nil asks Jira directly.
	keys *keyBroker
	// midWalk tells the broker that the keys being resolved are of a full
	// batch: the sync will list more (see keyBroker.resolve).
	midWalk bool

	// mu guards what background writes share with the caller.
	mu      sync.Mutex
	issues  map[string]bool // issue existence learnt during this sync
	capped  map[string]bool // issues at Jira Cloud's remote-link limit
	written int             // links created or updated
	updated int             // of written, links that existed and changed
	deleted int
	// writing is closed when the batch being written in the background
	// is done (nil: none); werr is the first error of background writes
	// not yet returned.
	writing chan struct{}
	werr    error
}

func (ix *Indexer) newLinker(projects map[string]bool) *linker {
	return &linker{ix: ix, projects: projects, issues: map[string]bool{}, capped: map[string]bool{}}
}

// add queues an entity. A full batch's keys are checked and its links
// written in the background while the caller goes on (see dispatch); add
// first waits for the batch before it, so at most one batch is being
// written and one collected. An error of an earlier background batch is
// returned here.
func (l *linker) add(ctx context.Context, e entity) error {
	if len(e.hits) == 0 {
		return nil
	}
	l.pending = append(l.pending, e)
	if len(l.pending) >= batchSize {
		return l.dispatch(ctx)
	}
	return nil
}

// flush writes every queued link and waits for the background writes:
// when it returns nil, every link handed to the linker is written and
// recorded, so a cursor or checkpoint covering them may advance. Links
// written are recorded even when another write fails, so a retry does not
// write them again.
func (l *linker) flush(ctx context.Context) error {
	if err := l.dispatch(ctx); err != nil {
		return errors.Join(err, l.settle())
	}
	return l.settle()
}

// settle waits for the background writes and returns (once) their first
// error. Nothing the linker started outlives it.
func (l *linker) settle() error {
	if l.writing != nil {
		<-l.writing
		l.writing = nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.werr
	l.werr = nil
	return err
}

// dispatch starts writing the pending batch once the batch before it is
// written. In the background, the batch's keys are checked (unless the
// pass's key broker, which needs to know who waits, is used: then here)
// and its new or changed links written.
func (l *linker) dispatch(ctx context.Context) error {
	if len(l.pending) == 0 {
		return l.settle()
	}
	batch := l.pending
	l.pending = nil
	candidates, err := l.filter(batch)
	if err == nil && (l.keys != nil || l.ix.opts.DryRun) {
		// A full batch is a walk in its middle; a smaller one ends a step.
		l.midWalk = len(batch) >= batchSize
		err = l.resolveIssues(ctx, candidates)
	}
	if serr := l.settle(); serr != nil || err != nil {
		return errors.Join(serr, err)
	}
	if l.ix.opts.DryRun {
		jobs, err := l.jobs(ctx, batch, nil)
		l.writeDry(jobs)
		return err
	}
	done := make(chan struct{})
	l.writing = done
	go func() {
		defer close(done)
		jobs, err := l.jobs(ctx, batch, candidates)
		if err == nil {
			err = l.write(ctx, jobs)
		}
		if err != nil {
			l.mu.Lock()
			l.werr = err
			l.mu.Unlock()
		}
	}()
	return nil
}

// linkJob is one link to write.
type linkJob struct {
	link    state.Link
	body    jiraclient.RemoteLink
	rec     state.LinkRecord
	existed bool
}

// filter drops the keys of a batch that are outside the linked projects or
// refused by the repo's route, and returns the keys left to check.
func (l *linker) filter(batch []entity) ([]string, error) {
	var candidates []string
	for i, e := range batch {
		kept := e.hits[:0:0]
		for _, h := range e.hits {
			if !l.projects[keys.ProjectOf(h.key)] {
				continue
			}
			if l.routeAllows(e, h.key) {
				candidates = append(candidates, h.key)
				kept = append(kept, h)
			}
		}
		batch[i].hits = kept
	}
	return candidates, l.saveDrops()
}

// jobs checks the candidate keys of a filtered batch and returns its links
// that are new or changed.
func (l *linker) jobs(ctx context.Context, batch []entity, candidates []string) ([]linkJob, error) {
	if err := l.resolveIssues(ctx, candidates); err != nil {
		return nil, err
	}
	var jobs []linkJob
	var ids []state.Link
	at := map[state.Link]int{} // a link twice in a batch is written once, as last seen
	now := l.ix.opts.Now()
	l.mu.Lock()
	for _, e := range batch {
		h := hashLink(e.link)
		for _, hit := range e.hits {
			if !l.issues[hit.key] {
				continue
			}
			sl := state.Link{GlobalID: e.link.GlobalID, Issue: hit.key}
			j := linkJob{link: sl, body: e.link, rec: state.LinkRecord{Hash: h, Info: linkInfo(e.kind, e.repo, e.link, hit.sources, now)}}
			if i, ok := at[sl]; ok {
				jobs[i] = j
				continue
			}
			at[sl] = len(jobs)
			jobs = append(jobs, j)
			ids = append(ids, sl)
		}
	}
	l.mu.Unlock()
	have, err := l.ix.opts.Store.LinkHashes(ids)
	if err != nil {
		return nil, err
	}
	out := jobs[:0]
	for _, j := range jobs {
		old, existed := have[j.link]
		if existed && old == j.rec.Hash {
			continue
		}
		j.existed = existed
		out = append(out, j)
	}
	return out, nil
}

// writeDry prints what a batch would write.
func (l *linker) writeDry(jobs []linkJob) {
	for _, j := range jobs {
		fmt.Fprintf(l.ix.opts.DryRunOut, "link %s ← %s %s (%s)\n", j.link.Issue, j.body.Relationship, j.body.Object.Title, j.body.Object.URL)
		l.written++
	}
}

// write writes a batch's links, concurrently as far as the Jira limiter
// lets them, and records those written. After a failure no further write
// starts (those in flight finish and are recorded); the first error is
// returned.
func (l *linker) write(ctx context.Context, jobs []linkJob) error {
	var (
		mu   sync.Mutex
		done = map[state.Link]state.LinkRecord{}
		werr error
		wg   sync.WaitGroup
		// Writes are started no faster than the limiter could admit
		// them, so that a failure leaves the rest unstarted.
		sem = make(chan struct{}, l.ix.opts.JiraLimiter.max)
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return werr != nil
	}
	for _, j := range jobs {
		sem <- struct{}{}
		if failed() || ctx.Err() != nil {
			break
		}
		l.mu.Lock()
		capped := l.capped[j.link.Issue]
		l.mu.Unlock()
		if capped {
			<-sem
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, err := l.writeOne(ctx, j)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && werr == nil:
				werr = fmt.Errorf("write link %s on %s: %w", j.body.GlobalID, j.link.Issue, err)
			case ok:
				done[j.link] = j.rec
			}
		})
	}
	wg.Wait()
	if werr == nil && ctx.Err() != nil {
		werr = ctx.Err()
	}
	if err := l.ix.opts.Store.PutLinks(done); err != nil {
		return errors.Join(werr, err)
	}
	return werr
}

// writeOne writes one link; ok reports that it was written (a link skipped
// for Jira Cloud's limit or a deleted issue is not).
func (l *linker) writeOne(ctx context.Context, j linkJob) (ok bool, err error) {
	_, err = l.ix.opts.Jira.UpsertRemoteLink(ctx, j.link.Issue, j.body)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case errors.Is(err, jiraclient.ErrLinkLimit):
		// Jira Cloud caps remote links per issue: this issue takes no
		// more in this pass; the repo still syncs. The link is not
		// recorded, so it is tried again in later passes.
		if !l.capped[j.link.Issue] {
			l.ix.log.Warn("issue has reached Jira's remote link limit; link skipped", "issue", j.link.Issue, "global_id", j.body.GlobalID)
		}
		l.capped[j.link.Issue] = true
		return false, nil
	case errors.Is(err, jiraclient.ErrNotFound):
		// Deleted (or moved) since we checked: forget it, skip.
		l.issues[j.link.Issue] = false
		_ = l.ix.opts.Store.PutIssues(map[string]state.IssueStatus{j.link.Issue: {Exists: false, CheckedAt: l.ix.opts.Now()}})
		return false, nil
	case err != nil:
		return false, err
	}
	l.written++
	if j.existed {
		l.updated++
	}
	return true, nil
}

// resolveIssues makes l.issues know whether each key exists, asking Jira
// (or the pass's key broker) only about keys neither this sync nor the
// cache can answer.
func (l *linker) resolveIssues(ctx context.Context, ks []string) error {
	var unknown []string
	seen := map[string]bool{}
	l.mu.Lock()
	for _, k := range ks {
		if _, ok := l.issues[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		unknown = append(unknown, k)
	}
	l.mu.Unlock()
	if len(unknown) == 0 {
		return nil
	}
	cached, err := l.ix.opts.Store.Issues(unknown)
	if err != nil {
		return err
	}
	now := l.ix.opts.Now()
	var ask []string
	learnt := map[string]bool{}
	for _, k := range unknown {
		st, ok := cached[k]
		if ok && (st.Exists || now.Sub(st.CheckedAt) < l.ix.opts.NegativeCacheTTL) {
			learnt[k] = st.Exists
			continue
		}
		ask = append(ask, k)
	}
	if len(ask) > 0 {
		sort.Strings(ask)
		exist, err := l.existing(ctx, ask)
		if err != nil {
			return fmt.Errorf("check %d issue keys in Jira: %w", len(ask), err)
		}
		for _, k := range ask {
			learnt[k] = exist[k]
		}
	}
	l.mu.Lock()
	for k, v := range learnt {
		l.issues[k] = v
	}
	l.mu.Unlock()
	return nil
}

// existing asks which of ask (sorted, none cached) exist and records the
// answer in the cache: through the pass's key broker when there is one,
// else with its own search.
func (l *linker) existing(ctx context.Context, ask []string) (map[string]bool, error) {
	if l.keys != nil {
		return l.keys.resolve(ctx, ask, l.midWalk)
	}
	return l.ix.checkIssues(ctx, ask)
}

// checkIssues searches Jira for which keys exist and caches the answer.
func (ix *Indexer) checkIssues(ctx context.Context, ask []string) (map[string]bool, error) {
	exist, err := ix.opts.Jira.ExistingIssues(ctx, ask)
	if err != nil {
		return nil, err
	}
	if ix.opts.DryRun {
		return exist, nil
	}
	now := ix.opts.Now()
	put := make(map[string]state.IssueStatus, len(ask))
	for _, k := range ask {
		put[k] = state.IssueStatus{Exists: exist[k], CheckedAt: now}
	}
	return exist, ix.opts.Store.PutIssues(put)
}

// remove deletes every link of an entity (a deleted branch or tag).
func (l *linker) remove(ctx context.Context, globalID string) error {
	links, err := l.ix.opts.Store.LinksOf(globalID)
	if err != nil || len(links) == 0 {
		return err
	}
	if f, ok := l.ix.opts.Store.(Fenced); ok && !l.ix.opts.DryRun {
		if err := f.CheckFence(); err != nil { // see Fenced
			return fmt.Errorf("unlink %s: %w", globalID, err)
		}
	}
	var gone []state.Link
	var derr error
	for _, lk := range links {
		if l.ix.opts.DryRun {
			fmt.Fprintf(l.ix.opts.DryRunOut, "unlink %s ← %s\n", lk.Issue, globalID)
			l.deleted++
			continue
		}
		err := l.ix.opts.Jira.DeleteRemoteLink(ctx, lk.Issue, globalID)
		if err != nil && !errors.Is(err, jiraclient.ErrNotFound) {
			derr = fmt.Errorf("delete link %s on %s: %w", globalID, lk.Issue, err)
			break
		}
		gone = append(gone, lk)
		l.deleted++
	}
	if l.ix.opts.DryRun {
		return nil
	}
	if err := l.ix.opts.Store.DeleteLinks(gone); err != nil {
		return errors.Join(derr, err)
	}
	return derr
}

// hashLink fingerprints a link's content so unchanged links are not
// re-written.
func hashLink(l jiraclient.RemoteLink) uint64 {
	b, _ := json.Marshal(l)
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

// linkInfo is the record kept of a link written to Jira: enough to explain
// it and to rewrite it without reading the provider again.
func linkInfo(kind EntityKind, repo string, l jiraclient.RemoteLink, sources []string, now time.Time) state.LinkInfo {
	info := state.LinkInfo{Kind: string(kind), Repo: repo, URL: l.Object.URL, Title: l.Object.Title,
		Summary: l.Object.Summary, Sources: sources, Written: now, Complete: true}
	if l.Object.Status != nil {
		resolved := l.Object.Status.Resolved
		info.Resolved = &resolved
	}
	return info
}
