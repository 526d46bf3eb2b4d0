// Package guard enforces jiralinkd's promise that it never fetches source
// code: every request a provider sends passes through a Transport that only
// lets through the list and metadata endpoints on an allowlist, and refuses
// everything else before any byte leaves the process.
//
// An allowlist rather than a denylist is deliberate: a new endpoint the code
// starts calling by mistake (or a future SDK default) is refused until
// someone reviews it and adds it here.
package guard

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// Rules is the allowlist of one provider type.
type Rules struct {
	// Name is used in error messages ("github", "gitlab").
	Name string
	// Allowed holds path templates relative to the API base. A segment
	// "{x}" matches exactly one non-empty path segment; a final "{x...}"
	// matches one or more segments. Only GET and HEAD are allowed on them.
	Allowed []string
	// AllowedPost holds the path templates that may also be POSTed to:
	// only GitHub's installation access-token endpoint, which creates a
	// credential and reads nothing.
	AllowedPost []string
}

// GitHub allows the REST v3 list and metadata endpoints jiralinkd needs.
// Notably absent: contents, readme, git blobs/trees, tarball/zipball,
// compare, the single-commit GET (it carries patches), PR files, and
// workflow run logs, jobs and artifacts.
var GitHub = Rules{
	Name: "github",
	Allowed: []string{
		"/",
		"/user",
		"/rate_limit",
		"/meta",
		"/orgs/{org}",
		"/orgs/{org}/repos",
		"/users/{user}/repos",
		// The issue and pull request search (titles, states, dates: an
		// owner's pull request activity in one call). Never /search/code
		// or /search/commits.
		"/search/issues",
		"/repositories/{id}",
		"/repositories/{id}/branches",
		"/repositories/{id}/tags",
		"/repositories/{id}/commits",
		"/repositories/{id}/pulls",
		"/repos/{owner}/{repo}",
		"/repos/{owner}/{repo}/branches",
		"/repos/{owner}/{repo}/tags",
		"/repos/{owner}/{repo}/commits",
		"/repos/{owner}/{repo}/pulls",
		// Builds and deployments: the run and deployment lists and a
		// deployment's statuses. Never a run's logs, jobs or artifacts.
		"/repos/{owner}/{repo}/actions/runs",
		"/repositories/{id}/actions/runs",
		"/repos/{owner}/{repo}/deployments",
		"/repositories/{id}/deployments",
		"/repos/{owner}/{repo}/deployments/{id}/statuses",
		"/repositories/{id}/deployments/{id}/statuses",
		// GitHub App authentication: the App itself, its installations and
		// what an installation can see.
		"/app",
		"/app/installations",
		"/installation/repositories",
	},
	AllowedPost: []string{
		"/app/installations/{id}/access_tokens",
	},
}

// GitLab allows the REST v4 list and metadata endpoints jiralinkd needs
// (paths relative to .../api/v4). Notably absent: repository files, blobs,
// tree, archive, compare, single commits and their diffs, merge request
// changes/diffs, snippets, jobs, job traces (logs) and artifacts.
var GitLab = Rules{
	Name: "gitlab",
	Allowed: []string{
		"/user",
		"/personal_access_tokens/self",
		"/version",
		"/metadata",
		"/groups/{id}",
		"/groups/{id}/projects",
		"/groups/{id}/merge_requests",
		"/projects/{id}",
		"/projects/{id}/repository/branches",
		"/projects/{id}/repository/tags",
		"/projects/{id}/repository/commits",
		"/projects/{id}/merge_requests",
		// Builds and deployments: the pipeline and deployment lists. Never
		// jobs, their traces or artifacts.
		"/projects/{id}/pipelines",
		"/projects/{id}/deployments",
	},
	// Self-rotation (off by default, rotate_before): revokes the token in
	// use and returns its successor; it reads no repository data.
	AllowedPost: []string{
		"/personal_access_tokens/self/rotate",
	},
}

// Error is returned for a refused request. It matches
// providers.ErrForbiddenEndpoint with errors.Is.
type Error struct {
	Provider string
	Method   string
	Path     string
	Reason   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s %s refused by metadata-only guard: %s", e.Provider, e.Method, e.Path, e.Reason)
}

// Is makes errors.Is(err, providers.ErrForbiddenEndpoint) true.
func (e *Error) Is(target error) bool { return target == providers.ErrForbiddenEndpoint }

// Transport is an http.RoundTripper that refuses non-allowlisted requests.
type Transport struct {
	next     http.RoundTripper
	rules    Rules
	basePath string
}

// New wraps next (nil means http.DefaultTransport). basePath is the path
// part of the API base URL ("/" for api.github.com, "/api/v3/" for GitHub
// Enterprise Server) and is stripped before matching.
func New(next http.RoundTripper, rules Rules, basePath string) *Transport {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Transport{next: next, rules: rules, basePath: "/" + strings.Trim(basePath, "/")}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.Check(req); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return t.next.RoundTrip(providers.CountCall(req))
}

// Check reports whether req would be refused, without sending it.
func (t *Transport) Check(req *http.Request) error {
	refuse := func(reason string) error {
		return &Error{Provider: t.rules.Name, Method: req.Method, Path: req.URL.EscapedPath(), Reason: reason}
	}
	post := req.Method == http.MethodPost && len(t.rules.AllowedPost) > 0
	if req.Method != http.MethodGet && req.Method != http.MethodHead && !post {
		return refuse("only GET and HEAD are allowed")
	}
	accept := strings.ToLower(req.Header.Get("Accept"))
	if strings.Contains(accept, "diff") || strings.Contains(accept, "patch") {
		return refuse("diff/patch media types are never requested")
	}
	// Match on the escaped path: GitLab addresses projects and groups as
	// one segment ("group%2Fproject"), which the decoded path would split.
	p, ok := relative(t.basePath, req.URL.EscapedPath())
	if !ok {
		return refuse("outside the API base path")
	}
	if post {
		if matchAny(t.rules.AllowedPost, p) == "" {
			return refuse("only GET and HEAD are allowed")
		}
		return nil
	}
	if t.rules.template(p) == "" {
		return refuse("not a metadata list endpoint")
	}
	return nil
}

// Classify names the allowlisted endpoint an escaped request path falls
// under (its template, e.g. "/repos/{owner}/{repo}/commits"), or "other":
// a low-cardinality label for metrics.
func (t *Transport) Classify(escapedPath string) string {
	p, ok := relative(t.basePath, escapedPath)
	if !ok {
		return "other"
	}
	if tpl := t.rules.template(p); tpl != "" {
		return tpl
	}
	if tpl := matchAny(t.rules.AllowedPost, p); tpl != "" {
		return tpl
	}
	return "other"
}

// relative strips the API base path.
func relative(basePath, p string) (string, bool) {
	if basePath != "/" {
		if !strings.HasPrefix(p, basePath+"/") && p != basePath {
			return "", false
		}
		p = strings.TrimPrefix(p, basePath)
	}
	if p == "" {
		p = "/"
	}
	return p, true
}

// template returns the allowlist entry p matches, or "".
func (r Rules) template(p string) string { return matchAny(r.Allowed, p) }

// matchAny returns the first of templates that p matches, or "".
func matchAny(templates []string, p string) string {
	for _, tpl := range templates {
		if match(tpl, p) {
			return tpl
		}
	}
	return ""
}

// match reports whether path matches the template.
func match(tpl, path string) bool {
	if tpl == "/" {
		return path == "/"
	}
	ts := strings.Split(strings.Trim(tpl, "/"), "/")
	ps := strings.Split(strings.Trim(path, "/"), "/")
	for i, seg := range ts {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}") {
			return len(ps) > i && allNonEmpty(ps[i:])
		}
		if i >= len(ps) || ps[i] == "" {
			return false
		}
		if strings.HasPrefix(seg, "{") {
			continue
		}
		if !strings.EqualFold(seg, ps[i]) {
			return false
		}
	}
	return len(ps) == len(ts)
}

func allNonEmpty(segs []string) bool {
	for _, s := range segs {
		if s == "" {
			return false
		}
	}
	return true
}

// Client is an HTTP client whose requests pass the guard, then the retry
// transport: how every provider talks to its server.
type Client struct {
	HTTP  *http.Client
	Guard *Transport
	Retry *httpx.RetryTransport
}

// NewClient wraps a copy of base (nil: a default client) so that its
// requests go guard → retry → base's transport. name and log fill the
// retry options' Name and Logger when unset.
func NewClient(base *http.Client, rules Rules, basePath string, ro httpx.RetryOptions, name string, log *slog.Logger) Client {
	hc := &http.Client{}
	if base != nil {
		c := *base
		hc = &c
	}
	if ro.Name == "" {
		ro.Name = name
	}
	if ro.Logger == nil {
		ro.Logger = log
	}
	retry := httpx.NewRetryTransport(hc.Transport, ro)
	g := New(retry, rules, basePath)
	hc.Transport = g
	return Client{HTTP: hc, Guard: g, Retry: retry}
}
