package indexer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
)

// EntityKind names what a remote link points at.
type EntityKind string

// Entity kinds. The values are part of every globalId: never change them.
const (
	KindCommit EntityKind = "commit"
	KindBranch EntityKind = "branch"
	KindTag    EntityKind = "tag"
	KindPull   EntityKind = "pr"
	// KindBuild is one workflow's (pipeline's) runs on an issue, and
	// KindDeployment one environment's deployments (see ci.go).
	KindBuild      EntityKind = "build"
	KindDeployment EntityKind = "deployment"
)

// relationship groups the links of one kind under a heading in Jira's UI.
var relationship = map[EntityKind]string{
	KindCommit:     "commit",
	KindBranch:     "branch",
	KindTag:        "tag",
	KindPull:       "pull request",
	KindBuild:      "builds",
	KindDeployment: "deployments",
}

// maxGlobalID is Jira's limit on globalId length.
const maxGlobalID = 255

// GlobalID is the stable identity of an entity's links: provider name, the
// repo's numeric id (which survives renames) and the entity. Re-posting a
// link with the same globalId updates it in place, so re-runs never
// duplicate. Over-long names are replaced by a hash to fit Jira's limit.
func GlobalID(repo state.RepoKey, kind EntityKind, id string) string {
	g := "jiralinkd/" + repo.Provider + "/" + strconv.FormatInt(repo.ID, 10) + "/" + string(kind) + "/" + id
	if len(g) <= maxGlobalID {
		return g
	}
	sum := sha256.Sum256([]byte(id))
	return "jiralinkd/" + repo.Provider + "/" + strconv.FormatInt(repo.ID, 10) + "/" + string(kind) + "/sha256:" + hex.EncodeToString(sum[:])
}

// entity is one thing to link and the keys found in its text.
type entity struct {
	kind EntityKind
	id   string
	repo string // provider/owner/name, for the link record
	hits []hit  // syntactic candidates, validated later
	link jiraclient.RemoteLink
}

// hit is a key found in an entity and the texts it was found in.
type hit struct {
	key     string
	sources []string
}

// addHits merges keys found in one source text into hits.
func addHits(hits []hit, source string, ks []string) []hit {
next:
	for _, k := range ks {
		for i := range hits {
			if hits[i].key == k {
				hits[i].sources = append(hits[i].sources, source)
				continue next
			}
		}
		hits = append(hits, hit{key: k, sources: []string{source}})
	}
	return hits
}

// maxTitle is Jira's limit on object.title.
const maxTitle = 255

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// redact removes credentials from text bound for Jira, logging the rule
// and the entity (never the secret). found reports whether any matched.
func (ix *Indexer) redact(key state.RepoKey, kind EntityKind, id, text string) (out string, found bool) {
	if ix.opts.Redact == nil {
		return text, false
	}
	out, rules := ix.opts.Redact(text)
	for _, r := range rules {
		ix.log.Warn("credential redacted before writing to Jira", "rule", r, "provider", key.Provider, "repo_id", key.ID, "kind", kind, "id", shortID(kind, id))
		if ix.opts.OnRedaction != nil {
			ix.opts.OnRedaction(r)
		}
	}
	return out, len(rules) > 0
}

// shortID names an entity in logs: a commit by its short SHA; a ref name
// is not logged at all (it may be the secret itself).
func shortID(kind EntityKind, id string) string {
	switch kind {
	case KindCommit:
		return shortSHA(id)
	case KindPull:
		return id
	}
	return "(name withheld)"
}

// linkBase fills the parts common to every link of a repo. Title and
// summary are redacted before they are truncated (a cut token would no
// longer be recognised).
func (ix *Indexer) linkBase(t Target, key state.RepoKey, repo providers.Repo, kind EntityKind, id, url, title, summary string) jiraclient.RemoteLink {
	title, _ = ix.redact(key, kind, id, title)
	summary, _ = ix.redact(key, kind, id, summary)
	return remoteLink(t, repo, kind, GlobalID(key, kind, id), url, truncate(title, maxTitle), truncate(summary, maxTitle))
}

// remoteLink assembles a link's content from its parts (already redacted
// and truncated): the one place that decides what a link looks like.
func remoteLink(t Target, repo providers.Repo, kind EntityKind, globalID, url, title, summary string) jiraclient.RemoteLink {
	l := jiraclient.RemoteLink{
		GlobalID:     globalID,
		Application:  &jiraclient.Application{Type: "com.jiralinkd." + string(t.Type), Name: t.Name},
		Relationship: relationship[kind],
		Object:       jiraclient.Object{URL: url, Title: title, Summary: summary},
	}
	if icon := faviconOf(repo.HTMLURL); icon != "" {
		l.Object.Icon = &jiraclient.Icon{URL16: icon, Title: t.Name}
	}
	return l
}

func faviconOf(htmlURL string) string {
	u, err := url.Parse(htmlURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/favicon.ico"
}

func (ix *Indexer) commitEntity(t Target, key state.RepoKey, repo providers.Repo, c providers.Commit) entity {
	who := authorOf(t, c) // routes.go
	summary := fmt.Sprintf("%s · %s · %s", repo.FullName, who, c.AuthorDate.UTC().Format("2006-01-02"))
	if who == "" {
		summary = fmt.Sprintf("%s · %s", repo.FullName, c.AuthorDate.UTC().Format("2006-01-02"))
	}
	u := c.HTMLURL
	if u == "" {
		u = repo.HTMLURL + "/commit/" + c.SHA
	}
	return entity{
		kind: KindCommit, id: c.SHA, repo: t.Name + "/" + repo.FullName,
		hits: addHits(nil, "commit message", ix.opts.Matcher.Prose(c.Message)),
		link: ix.linkBase(t, key, repo, KindCommit, c.SHA, u, shortSHA(c.SHA)+" "+firstLine(c.Message), summary),
	}
}

func (ix *Indexer) refEntity(t Target, key state.RepoKey, repo providers.Repo, kind EntityKind, name string) entity {
	if _, secret := ix.redact(key, kind, name, name); secret {
		// The name would be in the link's URL and globalId, which cannot
		// be redacted: write no link for it.
		return entity{kind: kind, id: name}
	}
	return entity{
		kind: kind, id: name, repo: t.Name + "/" + repo.FullName,
		hits: addHits(nil, string(kind)+" name", ix.opts.Matcher.Branch(name)),
		link: ix.linkBase(t, key, repo, kind, name, t.Source.RefURL(repo, name), string(kind)+" "+name, repo.FullName),
	}
}

func (ix *Indexer) pullEntity(t Target, key state.RepoKey, repo providers.Repo, p providers.PullRequest) entity {
	hits := addHits(nil, "PR title", ix.opts.Matcher.Prose(p.Title))
	hits = addHits(hits, "PR description", ix.opts.Matcher.Prose(p.Body))
	hits = addHits(hits, "PR head branch", ix.opts.Matcher.Branch(p.HeadBranch))
	summary := fmt.Sprintf("%s · %s → %s · %s · %s", repo.FullName, p.HeadBranch, p.BaseBranch, p.Author, p.State)
	if t.LinkAuthor == "none" || p.Author == "" {
		// p.Author is the account login on both providers: "login" keeps it.
		summary = fmt.Sprintf("%s · %s → %s · %s", repo.FullName, p.HeadBranch, p.BaseBranch, p.State)
	}
	id := strconv.Itoa(p.Number)
	u := p.HTMLURL
	if u == "" {
		u = repo.HTMLURL + "/pull/" + id
	}
	label := p.Label
	if label == "" {
		label = "#" + id
	}
	l := ix.linkBase(t, key, repo, KindPull, id, u, label+": "+p.Title, summary)
	l.Object.Status = &jiraclient.Status{Resolved: p.State.Resolved()}
	return entity{kind: KindPull, id: id, repo: t.Name + "/" + repo.FullName, hits: hits, link: l}
}
