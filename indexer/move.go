package indexer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
)

// errIncompleteRecords means some link records of a repo predate the
// complete form, so the links cannot be rebuilt from them alone.
var errIncompleteRecords = errors.New("link records written by an older version")

// moveBatch is how many moved links are recorded per state transaction.
const moveBatch = 100

// moveLinks rewrites every link of a renamed or transferred repo (same id,
// new URL) in place from jiralinkd's own link records: the old URL prefix
// becomes the new one, the repository name in the summary too. No history
// is listed, so it costs one Jira write per link and no provider call, and
// every link moves whatever keeps it reachable (a commit only an unkeyed
// tag reaches included). It is idempotent: a link already moved rebuilds to
// the content recorded for it and is skipped, so an interrupted move is
// finished by the next pass. Old-format records answer
// errIncompleteRecords before anything is written.
func (ix *Indexer) moveLinks(ctx context.Context, t Target, key state.RepoKey, from, to providers.Repo) (moved int, err error) {
	type job struct {
		link state.Link
		body jiraclient.RemoteLink
		rec  state.LinkRecord
	}
	var jobs []job
	err = ix.opts.Store.RepoLinks(repoGlobalIDPrefix(key), func(l state.Link, rec state.LinkRecord) error {
		if !rec.Info.Complete {
			return errIncompleteRecords
		}
		info := rec.Info
		info.URL = rebase(info.URL, from.HTMLURL, to.HTMLURL)
		info.Summary = rebase(info.Summary, from.FullName, to.FullName)
		info.Repo = t.Name + "/" + to.FullName
		body := remoteLink(t, to, EntityKind(info.Kind), l.GlobalID, info.URL, info.Title, info.Summary)
		if info.Resolved != nil {
			body.Object.Status = &jiraclient.Status{Resolved: *info.Resolved}
		}
		h := hashLink(body)
		if h == rec.Hash {
			return nil // moved before an interruption
		}
		info.Written = ix.opts.Now()
		jobs = append(jobs, job{link: l, body: body, rec: state.LinkRecord{Hash: h, Info: info}})
		return nil
	})
	if err != nil {
		return 0, err
	}
	done := make(map[state.Link]state.LinkRecord, moveBatch)
	save := func() error {
		err := ix.opts.Store.PutLinks(done)
		clear(done)
		return err
	}
	for _, j := range jobs {
		_, err := ix.opts.Jira.UpsertRemoteLink(ctx, j.link.Issue, j.body)
		switch {
		case errors.Is(err, jiraclient.ErrNotFound):
			// The issue is gone: the link went with it; forget it.
			if err := ix.opts.Store.DeleteLinks([]state.Link{j.link}); err != nil {
				return moved, errors.Join(save(), err)
			}
			continue
		case err != nil:
			return moved, errors.Join(fmt.Errorf("move link %s on %s: %w", j.link.GlobalID, j.link.Issue, err), save())
		}
		done[j.link] = j.rec
		moved++
		if len(done) >= moveBatch {
			if err := save(); err != nil {
				return moved, err
			}
		}
	}
	return moved, save()
}

// rebase replaces prefix old of s with new (at a path or word boundary).
func rebase(s, old, new string) string {
	if old == "" || old == new || !strings.HasPrefix(s, old) {
		return s
	}
	rest := s[len(old):]
	if rest != "" && !strings.HasPrefix(rest, "/") && !strings.HasPrefix(rest, " ") {
		return s // "acme/api2" is not under "acme/api"
	}
	return new + rest
}

// renamed handles a repo whose URL changed (a rename or transfer): its links
// are moved in place and its state takes the new identity, cursors kept.
// State written by an older version, whose link records cannot be rebuilt,
// is reset instead: the history is read again and every link rewritten.
// reread reports that reset. On error st is returned unchanged, so the
// next pass tries again.
func (ix *Indexer) renamed(ctx context.Context, t Target, st state.RepoState, to providers.Repo) (_ state.RepoState, reread bool, err error) {
	n, err := ix.moveLinks(ctx, t, st.Key, st.Repo, to)
	switch {
	case errors.Is(err, errIncompleteRecords):
		ix.log.Info("repository renamed; reading its history again (link records of an older version)", "provider", t.Name, "from", st.Repo.FullName, "to", to.FullName)
		if err := ix.opts.Store.ResetRepo(st.Key, to); err != nil {
			return st, false, err
		}
		return state.RepoState{Key: st.Key, Repo: to, Branches: map[string]string{}, Tags: map[string]string{}}, true, nil
	case err != nil:
		return st, false, fmt.Errorf("move the links of %s (renamed to %s): %w", st.Repo.FullName, to.FullName, err)
	}
	ix.log.Info("repository renamed; links moved in place", "provider", t.Name, "from", st.Repo.FullName, "to", to.FullName, "links", n)
	st.Repo = to
	return st, false, nil
}
