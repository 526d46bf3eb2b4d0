package githubtest

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// This file is the GitHub App side of the fake, modelled on GitHub's
// documented behaviour ("Authenticating as a GitHub App", "Generating an
// installation access token", REST "Apps" and "Installations"):
//
//   - The App authenticates with a JWT signed RS256 by its private key,
//     iss = the App's ID, iat not in the future, exp after now and at most
//     10 minutes ahead. Any other JWT answers 401 with GitHub's messages.
//   - GET /app and GET /app/installations (paginated) take only the JWT.
//   - POST /app/installations/{id}/access_tokens (JWT) creates an
//     installation token: 201 {token, expires_at, permissions,
//     repository_selection}; 403 "This installation has been suspended";
//     404 for an unknown installation.
//   - An installation token is accepted like any token ("Bearer" or
//     "token") on the normal endpoints until it expires (then 401 "Bad
//     credentials"). Each installation has its own rate-limit budget and
//     headers, and sees only its account's repositories (all, or the
//     selected ones): others answer 404, as on GitHub.
//   - GET /installation/repositories (installation token only) lists them:
//     {total_count, repository_selection, repositories}, Link-paginated.

// App registers a GitHub App with the fake.
type App struct {
	ID         int64
	Slug, Name string
	Owner      string // login of the owning account; "" means "acme"
	// PublicKey verifies the App's JWTs.
	PublicKey *rsa.PublicKey
	// Permissions the App requests; nil means metadata, contents and
	// pull_requests read.
	Permissions map[string]string
}

// Installation is one installation of the registered App.
type Installation struct {
	ID          int64
	Account     string // login of the account it is installed on
	AccountType string // "Organization" (default) or "User"
	// RepositorySelection is "all" (default: every repository of Account)
	// or "selected" (the repositories in Repos, by id).
	RepositorySelection string
	Repos               []int64
	Suspended           bool
	// Permissions granted; nil means the App's.
	Permissions map[string]string
	// RateLimit is the installation's hourly budget; 0 means 5000.
	RateLimit int
}

// DefaultTokenLifetime is how long installation tokens live, as on GitHub.
const DefaultTokenLifetime = time.Hour

// appState is the App side of a Server; mu guards it (and is never held
// while taking Server.stateMu or Server.mu).
type appState struct {
	mu       sync.Mutex
	app      *App
	budget   *budget // the App's JWT requests
	installs map[int64]*fakeInstallation
	tokens   map[string]issuedToken
	lifetime time.Duration
}

type fakeInstallation struct {
	Installation
	budget *budget
	issued int // tokens created
}

type issuedToken struct {
	installation int64
	expiresAt    time.Time
}

// appIdentity is who an App request authenticated as.
type appIdentity struct {
	installation int64 // 0: the App itself (JWT)
	budget       *budget
}

func defaultPermissions() map[string]string {
	return map[string]string{"metadata": "read", "contents": "read", "pull_requests": "read"}
}

// RegisterApp makes the fake know a GitHub App (one per server).
func (s *Server) RegisterApp(a App) {
	if a.Permissions == nil {
		a.Permissions = defaultPermissions()
	}
	a.Owner = cmp.Or(a.Owner, "acme")
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	s.app.app = &a
	s.app.budget = &budget{limit: 5000}
	if s.app.installs == nil {
		s.app.installs = map[int64]*fakeInstallation{}
		s.app.tokens = map[string]issuedToken{}
	}
}

// AddInstallation installs the registered App on an account (or replaces
// the installation with the same id).
func (s *Server) AddInstallation(in Installation) {
	in.AccountType = cmp.Or(in.AccountType, "Organization")
	in.RepositorySelection = cmp.Or(in.RepositorySelection, "all")
	in.Repos = slices.Clone(in.Repos)
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	if in.Permissions == nil && s.app.app != nil {
		in.Permissions = maps.Clone(s.app.app.Permissions)
	}
	s.app.installs[in.ID] = &fakeInstallation{Installation: in, budget: &budget{limit: cmp.Or(in.RateLimit, 5000)}}
}

// SetInstallationRepos changes which repositories an installation can see:
// selection "all" (Repos ignored) or "selected" with the given ids.
func (s *Server) SetInstallationRepos(id int64, selection string, repos []int64) {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	if in, ok := s.app.installs[id]; ok {
		in.RepositorySelection, in.Repos = selection, slices.Clone(repos)
	}
}

// SuspendInstallation suspends or unsuspends an installation: while
// suspended, token creation answers 403 and its tokens are refused.
func (s *Server) SuspendInstallation(id int64, suspended bool) {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	if in, ok := s.app.installs[id]; ok {
		in.Suspended = suspended
	}
}

// SetTokenLifetime sets the lifetime of installation tokens created from
// now on (default one hour), so tests can cross expiries quickly.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	s.app.lifetime = d
}

// TokensIssued is how many access tokens installation id was given.
func (s *Server) TokensIssued(id int64) int {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	if in, ok := s.app.installs[id]; ok {
		return in.issued
	}
	return 0
}

// InstallationRateRemaining is the budget installation id has left in
// its current window.
func (s *Server) InstallationRateRemaining(id int64) int {
	s.app.mu.Lock()
	in, ok := s.app.installs[id]
	s.app.mu.Unlock()
	if !ok {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in.budget.roll(s.now())
	return in.budget.limit - in.budget.used
}

// budgetOf is the rate-limit budget c counts against. Callers hold s.mu.
func (s *Server) budgetOf(c *call) *budget {
	if c.route == routeSearchIssues {
		return &s.search // one search budget, whoever asks
	}
	if c.auth != nil {
		return c.auth.budget
	}
	return &s.rl
}

const (
	routeApp           = "GET /app"
	routeInstallations = "GET /app/installations"
	routeAccessTokens  = "POST /app/installations/{id}/access_tokens"
	routeInstRepos     = "GET /installation/repositories"
	appsDocs           = "https://docs.github.com/rest/reference/apps#create-an-installation-access-token-for-an-app"
)

// appRoutes registers the App endpoints.
func (s *Server) appRoutes(mux *http.ServeMux) {
	s.handle(mux, routeApp, routeApp, s.getApp)
	s.handle(mux, routeInstallations, routeInstallations, s.listInstallations)
	s.handle(mux, routeAccessTokens, routeAccessTokens, s.createAccessToken)
	s.handle(mux, routeInstRepos, routeInstRepos, s.installationRepos)
}

// authenticateApp authenticates App requests: a JWT on the App routes, an
// installation token elsewhere (setting c.auth). It answers denied with
// GitHub's error when the credentials are refused; a request that is
// neither is left to the configured-token check (c.auth stays nil).
func (s *Server) authenticateApp(c *call) (response, bool) {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	if s.app.app == nil {
		return response{}, false
	}
	scheme, tok, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	switch strings.ToLower(scheme) {
	case "bearer", "token":
	default:
		tok = ""
	}
	switch c.route {
	case routeApp, routeInstallations, routeAccessTokens:
		if msg := s.verifyJWT(tok); msg != "" {
			return jsonError(http.StatusUnauthorized, msg, "https://docs.github.com/rest"), true
		}
		c.auth = &appIdentity{budget: s.app.budget}
		return response{}, false
	}
	t, ok := s.app.tokens[tok]
	if !ok {
		if c.route == routeInstRepos {
			return jsonError(http.StatusForbidden, "You must authenticate with an installation access token in order to list repositories for an installation.",
				"https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation"), true
		}
		return response{}, false
	}
	in := s.app.installs[t.installation]
	switch {
	case !s.now().Before(t.expiresAt), in == nil:
		return unauthorized(true), true
	case in.Suspended:
		return jsonError(http.StatusForbidden, "This installation has been suspended", appsDocs), true
	}
	c.auth = &appIdentity{installation: in.ID, budget: in.budget}
	return response{}, false
}

// verifyJWT returns GitHub's message for an unacceptable App JWT, or "".
// Callers hold s.app.mu.
func (s *Server) verifyJWT(tok string) string {
	const undecodable = "A JSON web token could not be decoded"
	app := s.app.app
	if tok == "" || strings.Count(tok, ".") != 2 || app.PublicKey == nil {
		return undecodable
	}
	var claims jwt.MapClaims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return app.PublicKey, nil }); err != nil {
		return undecodable // a wrong key is indistinguishable from garbage
	}
	var iss string
	switch v := claims["iss"].(type) {
	case string:
		iss = v
	case float64:
		iss = strconv.FormatInt(int64(v), 10)
	}
	if iss != strconv.FormatInt(app.ID, 10) {
		return undecodable // GitHub cannot find the key of another App
	}
	iat, iatOK := claims["iat"].(float64)
	exp, expOK := claims["exp"].(float64)
	now := float64(s.now().Unix())
	switch {
	case !iatOK || iat > now:
		return "'Issued at' claim ('iat') must be an Integer representing the time that the JWT was issued"
	case !expOK || exp <= now:
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	case exp-now > 600:
		return "'Expiration time' claim ('exp') is too far in the future"
	}
	return ""
}

func jsonError(status int, msg, doc string) response {
	resp := fakeserver.JSON(status, basicError{msg, doc})
	resp.Header = http.Header{}
	return resp
}

type appJSON struct {
	ID          int64             `json:"id"`
	Slug        string            `json:"slug"`
	NodeID      string            `json:"node_id"`
	Owner       userJSON          `json:"owner"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	ExternalURL string            `json:"external_url"`
	HTMLURL     string            `json:"html_url"`
	CreatedAt   string            `json:"created_at"`
	UpdatedAt   string            `json:"updated_at"`
	Permissions map[string]string `json:"permissions"`
	Events      []string          `json:"events"`
}

type installationJSON struct {
	ID                     int64             `json:"id"`
	Account                userJSON          `json:"account"`
	RepositorySelection    string            `json:"repository_selection"`
	AccessTokensURL        string            `json:"access_tokens_url"`
	RepositoriesURL        string            `json:"repositories_url"`
	HTMLURL                string            `json:"html_url"`
	AppID                  int64             `json:"app_id"`
	AppSlug                string            `json:"app_slug"`
	TargetID               int64             `json:"target_id"`
	TargetType             string            `json:"target_type"`
	Permissions            map[string]string `json:"permissions"`
	Events                 []string          `json:"events"`
	CreatedAt              string            `json:"created_at"`
	UpdatedAt              string            `json:"updated_at"`
	SingleFileName         *string           `json:"single_file_name"`
	HasMultipleSingleFiles bool              `json:"has_multiple_single_files"`
	SingleFilePaths        []string          `json:"single_file_paths"`
	SuspendedBy            *userJSON         `json:"suspended_by"`
	SuspendedAt            *string           `json:"suspended_at"`
}

const appTime = "2024-01-02T03:04:05Z"

func (s *Server) account(c *call, login, typ string) userJSON {
	return s.user(c, login, typ == "Organization")
}

func (s *Server) getApp(c *call) response {
	s.app.mu.Lock()
	app := *s.app.app
	s.app.mu.Unlock()
	return fakeserver.JSON(http.StatusOK, appJSON{
		ID: app.ID, Slug: app.Slug, NodeID: "A_kwDO" + strconv.FormatInt(app.ID, 10), Owner: s.account(c, app.Owner, "Organization"),
		Name: app.Name, HTMLURL: s.web + "/apps/" + app.Slug, CreatedAt: appTime, UpdatedAt: appTime,
		Permissions: app.Permissions, Events: []string{},
	})
}

func (s *Server) listInstallations(c *call) response {
	s.app.mu.Lock()
	app := *s.app.app
	ids := slices.Sorted(maps.Keys(s.app.installs))
	list := make([]Installation, 0, len(ids))
	for _, id := range ids {
		list = append(list, s.app.installs[id].Installation)
	}
	s.app.mu.Unlock()
	items := make([]installationJSON, 0, len(list))
	for _, in := range list {
		var suspended *string
		var suspendedBy *userJSON
		acct := s.account(c, in.Account, in.AccountType)
		if in.Suspended {
			t := appTime
			suspended, suspendedBy = &t, &acct
		}
		items = append(items, installationJSON{
			ID: in.ID, Account: acct, RepositorySelection: in.RepositorySelection,
			AccessTokensURL: fmt.Sprintf("%s/app/installations/%d/access_tokens", c.base, in.ID),
			RepositoriesURL: c.base + "/installation/repositories",
			HTMLURL:         fmt.Sprintf("%s/organizations/%s/settings/installations/%d", s.web, in.Account, in.ID),
			AppID:           app.ID, AppSlug: app.Slug, TargetID: acct.ID, TargetType: in.AccountType,
			Permissions: in.Permissions, Events: []string{}, CreatedAt: appTime, UpdatedAt: appTime,
			SingleFilePaths: []string{}, SuspendedBy: suspendedBy, SuspendedAt: suspended,
		})
	}
	page, link := paginate(c, items, c.base+"/app/installations")
	return listResponse(page, link)
}

func (s *Server) createAccessToken(c *call) response {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	in, ok := s.app.installs[id]
	switch {
	case err != nil || !ok:
		return jsonError(http.StatusNotFound, "Not Found", appsDocs)
	case in.Suspended:
		return jsonError(http.StatusForbidden, "This installation has been suspended", appsDocs)
	}
	buf := make([]byte, 18)
	_, _ = rand.Read(buf)
	tok := "ghs_" + hex.EncodeToString(buf)[:36]
	exp := s.now().Add(cmp.Or(s.app.lifetime, DefaultTokenLifetime)).UTC().Truncate(time.Second)
	s.app.tokens[tok] = issuedToken{installation: id, expiresAt: exp}
	in.issued++
	resp := fakeserver.JSON(http.StatusCreated, struct {
		Token               string            `json:"token"`
		ExpiresAt           string            `json:"expires_at"`
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
	}{tok, exp.Format(time.RFC3339), in.Permissions, in.RepositorySelection})
	return resp
}

// visibleTo reports whether the repository id of owner is visible to c's
// credentials: always for the configured token, for an installation token
// only within its installation.
func (s *Server) visibleTo(c *call, id int64, owner string) bool {
	if c.auth == nil || c.auth.installation == 0 {
		return true
	}
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	in, ok := s.app.installs[c.auth.installation]
	return ok && in.sees(id, owner)
}

// sees reports whether the installation can see a repository.
func (in *fakeInstallation) sees(id int64, owner string) bool {
	if !strings.EqualFold(owner, in.Account) {
		return false
	}
	return in.RepositorySelection == "all" || slices.Contains(in.Repos, id)
}

func (s *Server) installationRepos(c *call) response {
	s.app.mu.Lock()
	in := *s.app.installs[c.auth.installation]
	in.Repos = slices.Clone(in.Repos)
	s.app.mu.Unlock()
	all := s.allRepos()
	slices.SortFunc(all, func(a, b repoInfo) int {
		return strings.Compare(strings.ToLower(a.Owner+"/"+a.Name), strings.ToLower(b.Owner+"/"+b.Name))
	})
	var repos []repoJSON
	for _, r := range all {
		if in.sees(r.ID, r.Owner) {
			repos = append(repos, s.repoJSON(c, r, false))
		}
	}
	page, link := paginate(c, repos, c.base+"/installation/repositories")
	if page == nil {
		page = []repoJSON{}
	}
	resp := fakeserver.JSON(http.StatusOK, struct {
		TotalCount          int        `json:"total_count"`
		RepositorySelection string     `json:"repository_selection"`
		Repositories        []repoJSON `json:"repositories"`
	}{len(repos), in.RepositorySelection, page})
	if link != "" {
		resp.Header = http.Header{"Link": {link}}
	}
	return resp
}

// SetInstallationRateRemaining sets the budget installation id has left in
// its current window.
func (s *Server) SetInstallationRateRemaining(id int64, n int) {
	s.app.mu.Lock()
	in, ok := s.app.installs[id]
	s.app.mu.Unlock()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in.budget.roll(s.now())
	in.budget.used = in.budget.limit - max(0, min(n, in.budget.limit))
}

// IssuedTokens returns every installation token created so far, so tests
// can check that none is ever logged or printed.
func (s *Server) IssuedTokens() []string {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	return slices.Sorted(maps.Keys(s.app.tokens))
}
