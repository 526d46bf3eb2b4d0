package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// batchSize is how many entities are collected before their keys are
// validated (one JQL search per 100 unknown keys) and their links written.
const batchSize = 100

// linker writes the links of one repo's entities in batches. It is used by
// one goroutine.
type linker struct {
	ix       *Indexer
	projects map[string]bool
	issues   map[string]bool // issue existence learnt during this sync
	capped   map[string]bool // issues at Jira Cloud's remote-link limit
	pending  []entity
	written  int // links created or updated
	updated  int // of written, links that existed and changed
	deleted  int
	// route, when set, restricts the projects keys may link to (routes.go);
	// dropped counts the keys it refused, drops those to record.
	route   func(project string) (bool, string)
	dropped int
	drops   []state.RouteDrop
}

func (ix *Indexer) newLinker(projects map[string]bool) *linker {
	return &linker{ix: ix, projects: projects, issues: map[string]bool{}, capped: map[string]bool{}}
}

// add queues an entity, flushing when a batch is full.
func (l *linker) add(ctx context.Context, e entity) error {
	if len(e.hits) == 0 {
		return nil
	}
	l.pending = append(l.pending, e)
	if len(l.pending) >= batchSize {
		return l.flush(ctx)
	}
	return nil
}

// flush validates the pending entities' keys and writes their links. Links
// written are recorded even when a later write fails, so a retry does not
// write them again.
func (l *linker) flush(ctx context.Context) error {
	if len(l.pending) == 0 {
		return nil
	}
	batch := l.pending
	l.pending = nil

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
	if err := l.saveDrops(); err != nil {
		return err
	}
	if err := l.resolveIssues(ctx, candidates); err != nil {
		return err
	}

	type job struct {
		link state.Link
		body jiraclient.RemoteLink
		rec  state.LinkRecord
	}
	var jobs []job
	var ids []state.Link
	now := l.ix.opts.Now()
	for _, e := range batch {
		h := hashLink(e.link)
		for _, hit := range e.hits {
			if l.projects[keys.ProjectOf(hit.key)] && l.issues[hit.key] {
				sl := state.Link{GlobalID: e.link.GlobalID, Issue: hit.key}
				rec := state.LinkRecord{Hash: h, Info: linkInfo(e.kind, e.repo, e.link, hit.sources, now)}
				jobs = append(jobs, job{link: sl, body: e.link, rec: rec})
				ids = append(ids, sl)
			}
		}
	}
	have, err := l.ix.opts.Store.LinkHashes(ids)
	if err != nil {
		return err
	}
	done := map[state.Link]state.LinkRecord{}
	var werr error
	for _, j := range jobs {
		old, existed := have[j.link]
		if existed && old == j.rec.Hash {
			continue
		}
		if l.ix.opts.DryRun {
			fmt.Fprintf(l.ix.opts.DryRunOut, "link %s ← %s %s (%s)\n", j.link.Issue, j.body.Relationship, j.body.Object.Title, j.body.Object.URL)
			l.written++
			continue
		}
		if l.capped[j.link.Issue] {
			continue
		}
		_, err := l.ix.opts.Jira.UpsertRemoteLink(ctx, j.link.Issue, j.body)
		if errors.Is(err, jiraclient.ErrLinkLimit) {
			// Jira Cloud caps remote links per issue: this issue takes no
			// more in this pass; the repo still syncs. The link is not
			// recorded, so it is tried again in later passes.
			l.ix.log.Warn("issue has reached Jira's remote link limit; link skipped", "issue", j.link.Issue, "global_id", j.body.GlobalID)
			l.capped[j.link.Issue] = true
			continue
		}
		if errors.Is(err, jiraclient.ErrNotFound) {
			// Deleted (or moved) since we checked: forget it, skip.
			l.issues[j.link.Issue] = false
			_ = l.ix.opts.Store.PutIssues(map[string]state.IssueStatus{j.link.Issue: {Exists: false, CheckedAt: l.ix.opts.Now()}})
			continue
		}
		if err != nil {
			werr = fmt.Errorf("write link %s on %s: %w", j.body.GlobalID, j.link.Issue, err)
			break
		}
		done[j.link] = j.rec
		l.written++
		if existed {
			l.updated++
		}
	}
	if l.ix.opts.DryRun {
		return nil
	}
	if err := l.ix.opts.Store.PutLinks(done); err != nil {
		return errors.Join(werr, err)
	}
	return werr
}

// resolveIssues makes l.issues know whether each key exists, asking Jira
// only about keys neither this sync nor the cache can answer.
func (l *linker) resolveIssues(ctx context.Context, ks []string) error {
	var unknown []string
	seen := map[string]bool{}
	for _, k := range ks {
		if _, ok := l.issues[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		unknown = append(unknown, k)
	}
	if len(unknown) == 0 {
		return nil
	}
	cached, err := l.ix.opts.Store.Issues(unknown)
	if err != nil {
		return err
	}
	now := l.ix.opts.Now()
	var ask []string
	for _, k := range unknown {
		st, ok := cached[k]
		if ok && (st.Exists || now.Sub(st.CheckedAt) < l.ix.opts.NegativeCacheTTL) {
			l.issues[k] = st.Exists
			continue
		}
		ask = append(ask, k)
	}
	if len(ask) == 0 {
		return nil
	}
	sort.Strings(ask)
	exist, err := l.ix.opts.Jira.ExistingIssues(ctx, ask)
	if err != nil {
		return fmt.Errorf("check %d issue keys in Jira: %w", len(ask), err)
	}
	put := make(map[string]state.IssueStatus, len(ask))
	for _, k := range ask {
		l.issues[k] = exist[k]
		put[k] = state.IssueStatus{Exists: exist[k], CheckedAt: now}
	}
	if l.ix.opts.DryRun {
		return nil
	}
	return l.ix.opts.Store.PutIssues(put)
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
