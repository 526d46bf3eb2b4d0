package admin

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/jiralinkd/jiralinkd/indexer/status"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// contentSecurityPolicy allows the inline stylesheet and nothing else: the
// pages run no script, load nothing and post forms only to this server.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pages holds the parsed templates.
type pages struct {
	status, issue, loginT, findings *template.Template
}

func newPages() *pages {
	parse := func(name string) *template.Template {
		return template.Must(template.New(name).Funcs(template.FuncMap{"n": thousands}).
			ParseFS(templateFS, "templates/layout.tmpl", "templates/"+name))
	}
	return &pages{status: parse("status.tmpl"), issue: parse("issue.tmpl"), loginT: parse("login.tmpl"), findings: parse("findings.tmpl")}
}

// render executes t into a buffer first, so that a template error becomes
// a clean 500 rather than half a page.
func render(w http.ResponseWriter, code int, t *template.Template, v any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "page", v); err != nil {
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// loginView is the data of the login form.
type loginView struct {
	Version string
	Next    string
	Failed  bool
}

func (p *pages) login(w http.ResponseWriter, code int, v loginView) { render(w, code, p.loginT, v) }

// when is a point in time as the page shows it.
type when struct {
	Rel string // "3 min ago", "in 2 min", "never"
	Abs string // full timestamp for the tooltip; "" when zero
}

// systemView is Jira's or a provider's last outcome as the page shows it.
type systemView struct {
	status.System
	LastPassAt, LastSuccessAt when
	// TokenLeft is "42 days left (2026-12-31)", "expired on 2026-12-31"
	// or "" when the expiry is unknown; TokenSoon is set within 30 days.
	TokenLeft string
	TokenSoon bool
}

func newSystemView(s status.System, now time.Time) systemView {
	v := systemView{System: s, LastPassAt: at(s.LastPass, now, "never"), LastSuccessAt: at(s.LastSuccess, now, "never")}
	if t := s.Token; t != nil {
		day := t.Expires.UTC().Format(time.DateOnly)
		switch {
		case !t.Expires.After(now):
			v.TokenLeft = "expired on " + day
		case t.DaysLeft == 1:
			v.TokenLeft = "1 day left (" + day + ")"
		default:
			v.TokenLeft = fmt.Sprintf("%d days left (%s)", t.DaysLeft, day)
		}
		v.TokenSoon = t.DaysLeft < 30
	}
	return v
}

// installationView is one GitHub App installation's budget.
type installationView struct {
	ID     int64
	Budget string
}

type providerView struct {
	status.Provider
	Outcome               systemView
	NextRunAt, LastPassAt when
	Budget                string // "4,321 / 5,000" or "unknown"
	ResetsAt, PausedUntil string // HH:MM:SS or ""
	Installs              []installationView
}

type repoView struct {
	status.Repo
	Badge                 string // ok, failed, pending or syncing
	LastSyncAt, SuccessAt when
	ResyncAction          string
	ResyncAt              when
}

type statusView struct {
	Health      status.Health
	Problems    []string
	Jira        systemView
	Version     string
	Now         string
	CSRF        string
	Notice      string
	NoticeBad   bool
	Failed      bool // the snapshot could not be read
	Providers   []providerView
	Repos       []repoView
	QueueDepth  int
	SmartFailed int
	Counts      map[string]int // by badge
	Replicas    []replicaView
	Backfill    *backfillView // nil when no backfill runs
}

// replicaView is a replica of a shared state on the status page.
type replicaView struct {
	status.Replica
	HeartbeatAt when
}

// notices are the fixed messages a resync form's redirect can ask for.
var notices = map[string]struct {
	format string
	bad    bool
}{
	"started": {"Resync of %s started.", false},
	"busy":    {"%s is already syncing.", true},
	"unknown": {"%s is not a repository this daemon indexes.", true},
	"error":   {"Could not start the resync of %s: see the daemon's log.", true},
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	v := statusView{Version: s.version, Now: now.Format(timeLayout), CSRF: s.csrfFor(r), Counts: map[string]int{}}
	if n, ok := notices[r.URL.Query().Get("notice")]; ok {
		v.Notice, v.NoticeBad = fmt.Sprintf(n.format, r.URL.Query().Get("repo")), n.bad
	}
	snap, ok := s.snapshot()
	code := http.StatusOK
	if !ok {
		v.Failed, code = true, http.StatusInternalServerError
	}
	v.QueueDepth = snap.QueueDepth
	v.Backfill = newBackfillView(snap.Backfill, now)
	v.SmartFailed = snap.SmartCommitsFailed
	for _, r := range snap.Replicas {
		v.Replicas = append(v.Replicas, replicaView{Replica: r, HeartbeatAt: at(r.Heartbeat, now, "never")})
	}
	v.Health, v.Problems, v.Jira = snap.Health, snap.Problems, newSystemView(snap.Jira, now)
	for _, p := range snap.Providers {
		pv := providerView{Provider: p, Outcome: newSystemView(p.System, now), NextRunAt: at(p.NextRun, now, "—"),
			LastPassAt: at(p.LastPass, now, "never"), Budget: "unknown"}
		if p.RateLimit.Known {
			pv.Budget = thousands(p.RateLimit.Remaining) + " / " + thousands(p.RateLimit.Limit)
			pv.ResetsAt = clock(p.RateLimit.Reset)
		}
		pv.PausedUntil = clock(p.PausedUntil)
		for _, in := range p.Installations {
			iv := installationView{ID: in.ID, Budget: "unknown"}
			if in.Known {
				iv.Budget = thousands(in.Remaining) + " / " + thousands(in.Limit)
			}
			pv.Installs = append(pv.Installs, iv)
		}
		v.Providers = append(v.Providers, pv)
	}
	for _, repo := range snap.Repos {
		rv := repoView{Repo: repo, Badge: badge(repo), LastSyncAt: at(repo.LastSync, now, "never"),
			SuccessAt: at(repo.LastSuccess, now, "never"), ResyncAction: resyncPath(repo.Provider, repo.FullName)}
		if repo.Resync != nil {
			rv.ResyncAt = at(repo.Resync.At, now, "—")
		}
		v.Counts[rv.Badge]++
		v.Repos = append(v.Repos, rv)
	}
	render(w, code, s.pages.status, v)
}

// badge is the state a repo row shows: syncing wins over the stored
// outcome of the previous sync.
func badge(r status.Repo) string {
	if r.Syncing {
		return "syncing"
	}
	switch r.State {
	case "ok", "failed":
		return string(r.State)
	}
	return "pending"
}

// resyncPath is the resync form's action, each segment of the full name
// escaped on its own so that the route's {path} keeps its slashes.
func resyncPath(provider, fullName string) string {
	segs := strings.Split(fullName, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/repos/" + url.PathEscape(provider) + "/" + strings.Join(segs, "/") + "/resync"
}

// resyncForm starts a resync from the status page and returns there.
func (s *Server) resyncForm(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	notice := "started"
	switch err := s.resync(v["provider"], v["path"]); {
	case err == nil:
	case errors.Is(err, ErrUnknownRepo):
		notice = "unknown"
	case errors.Is(err, ErrBusy):
		notice = "busy"
	default:
		notice = "error"
	}
	q := url.Values{"notice": {notice}, "repo": {v["provider"] + "/" + v["path"]}}
	http.Redirect(w, r, "/?"+q.Encode(), http.StatusSeeOther)
}

type linkView struct {
	ExplainedLink
	Why       string
	WrittenAt when
}

type issueView struct {
	Version  string
	Now      string
	CSRF     string
	Key      string
	Problem  string // why the key could not be explained
	Asked    bool   // a valid key was looked up
	Links    []linkView
	Commands []ExplainedCommand // smart-commit commands on the issue
	Drops    []ExplainedDrop    // mentions dropped by providers' routes
	// Builds and Deployments are the issue's build and deployment links.
	Builds, Deployments []ciView
}

type ciView struct {
	ExplainedCI
	Kind      string // build, deployment
	Why       string
	WrittenAt when
}

// issuePage explains an issue: every link jiralinkd wrote on it and why.
func (s *Server) issuePage(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	key := NormalizeIssueKey(strings.TrimSpace(r.URL.Query().Get("key")))
	v := issueView{Version: s.version, Now: now.Format(timeLayout), CSRF: s.csrfFor(r), Key: key}
	code := http.StatusOK
	switch links, err := s.issueLinks(key); {
	case key == "":
	case errors.Is(err, errMalformedKey):
		v.Problem, code = "“"+key+"” is not an issue key: it looks like PROJECT-123.", http.StatusBadRequest
	case err != nil:
		v.Problem, code = "Could not read the links: see the daemon's log.", http.StatusInternalServerError
	default:
		v.Asked = true
		e := Explain(key, links, s.smartCommits(key)...)
		s.addDrops(&e)
		v.Commands = e.SmartCommits
		v.Drops = e.DroppedByRoute
		for _, c := range e.Builds {
			v.Builds = append(v.Builds, ciView{ExplainedCI: c, Kind: "build", Why: strings.Join(c.Sources, ", "), WrittenAt: at(c.Written, now, "—")})
		}
		for _, c := range e.Deployments {
			v.Deployments = append(v.Deployments, ciView{ExplainedCI: c, Kind: "deployment", Why: strings.Join(c.Sources, ", "), WrittenAt: at(c.Written, now, "—")})
		}
		for _, l := range e.Links {
			why := strings.Join(l.Sources, ", ")
			if why == "" {
				why = "—"
			}
			v.Links = append(v.Links, linkView{ExplainedLink: l, Why: why, WrittenAt: at(l.Written, now, "—")})
		}
	}
	render(w, code, s.pages.issue, v)
}

var errMalformedKey = errors.New("malformed issue key")
