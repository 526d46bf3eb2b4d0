package main

// check_provider.go: the checks of each GitHub and GitLab provider (token, scopes, repositories, rate limit, clock, webhooks, CI lists).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// checkProvider checks provider i (p) of the configuration: its token, its
// organisations/groups and repositories/projects, its rate limit. It
// reports whether the server answered at all.
func checkProvider(ctx context.Context, c *checker, d *deps, i int, p config.Provider) bool {
	name := p.Name
	urlKey, cred := fmt.Sprintf("providers[%d].url", i), secretSetting(fmt.Sprintf("providers[%d]", i), "token", p.Token)
	timeoutKey := fmt.Sprintf("providers[%d].timeout", i)
	switch p.Type {
	case providers.TypeGitHub:
		gc := d.github[name]
		kind := githubTokenKindOf(p.Token.Reveal())
		type who struct {
			login  string
			scopes []string
		}
		w, err := probe(ctx, p.Timeout, func(ctx context.Context) (who, error) {
			login, scopes, err := gc.Whoami(ctx)
			return who{login, scopes}, err
		})
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		switch {
		case err == nil:
		case unauthorized(err):
			c.result(name+" reachable", nil, p.URL)
			c.result(name+" token", rejected(cred, err), "")
			checkGitHubToken(c, name, kind, nil)
			return true
		case unreachable(err):
			c.result(name+" reachable", reachError(err, urlKey, p.URL, timeoutKey, p.Timeout), "")
			return false
		default:
			c.result(name+" token", err, "")
			checkGitHubToken(c, name, kind, nil)
			return true
		}
		c.result(name+" token", nil, "authenticated as "+w.login+scopeList(w.scopes))
		checkGitHubToken(c, name, kind, w.scopes)
		exp, ok := gc.TokenExpiry()
		expiryLine(c, name+" token expiry", exp, ok, p.Token.Setting(providerPath(i)+".token"))
		for _, org := range p.Orgs {
			c.result(name+" org "+org, gc.Org(ctx, org), "visible")
		}
		for _, r := range p.Repos {
			l, err := gc.Repo(ctx, r, providers.ListState{})
			c.result(name+" repo "+r, err, "visible")
			if err == nil {
				checkCI(ctx, c, name+" repo "+r, gc, l.Items[0], p, "Actions and Deployments read")
			}
		}
		rateLine(c, name, gc.RateLimit())
	case providers.TypeGitLab:
		gc := d.gitlab[name]
		v, err := probe(ctx, p.Timeout, gc.Version)
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		switch {
		case err == nil:
			c.result(name+" reachable", nil, p.URL+" (GitLab "+v+")")
		case unauthorized(err): // GitLab answers /version only to a valid token
			c.result(name+" reachable", nil, p.URL)
			c.result(name+" token", rejected(cred, err), "")
			return true
		default:
			c.result(name+" reachable", reachError(err, urlKey, p.URL, timeoutKey, p.Timeout), "")
			return !unreachable(err)
		}
		user, scopes, err := gc.Whoami(ctx)
		if err != nil {
			if unauthorized(err) {
				err = rejected(cred, err)
			}
			c.result(name+" token", err, "")
			return true
		}
		c.result(name+" token", checkGitLabScopes(scopes), "authenticated as "+user+scopeList(scopes))
		info, err := gc.TokenInfo(ctx)
		expiryLine(c, name+" token expiry", info.Expires, err == nil && !info.Expires.IsZero(), p.Token.Setting(providerPath(i)+".token"))
		if p.RotateBefore > 0 && err == nil && !slices.Contains(info.Scopes, "api") && !slices.Contains(info.Scopes, "self_rotate") {
			c.result(name+" token rotation", fmt.Errorf("rotate_before needs the api or self_rotate scope: recreate %s with self_rotate",
				p.Token.Setting(providerPath(i)+".token")), "")
		}
		for _, g := range p.Groups {
			c.result(name+" group "+g, gc.Group(ctx, g), "visible")
		}
		for _, r := range p.Projects {
			l, err := gc.Repo(ctx, r, providers.ListState{})
			c.result(name+" project "+r, err, "visible")
			if err == nil {
				checkCI(ctx, c, name+" project "+r, gc, l.Items[0], p, "CI/CD enabled on the project")
			}
		}
		rateLine(c, name, gc.RateLimit())
	}
	return true
}

// checkCI reads the first run and deployment of an explicitly configured
// repository when builds or deployments are on, and warns when the
// provider refuses them (the sync then skips them for that repository).
func checkCI(ctx context.Context, c *checker, name string, src indexer.CISource, r providers.Repo, p config.Provider, need string) {
	first := func(providers.Run) (bool, error) { return true, nil }
	if p.Builds {
		if _, _, err := src.Runs(ctx, r, time.Now().Add(-p.BuildsSince), providers.ListState{}, first); err != nil {
			c.warn(name+" builds", fmt.Sprintf("runs not readable (%v): needs %s", err, need))
		} else {
			c.result(name+" builds", nil, "runs readable")
		}
	}
	if p.Deployments != nil {
		if _, _, err := src.Deployments(ctx, r, time.Now(), providers.ListState{}, func(providers.Deployment) (bool, error) { return true, nil }); err != nil {
			c.warn(name+" deployments", fmt.Sprintf("deployments not readable (%v): needs %s", err, need))
		} else {
			c.result(name+" deployments", nil, "deployments readable")
		}
	}
}

func rateLine(c *checker, name string, rl httpx.RateLimit) {
	if rl.Known {
		c.result(name+" rate limit", nil, fmt.Sprintf("%d of %d left, resets %s", rl.Remaining, rl.Limit, rl.Reset.Format(time.RFC3339)))
	}
}

func scopeList(scopes []string) string {
	if len(scopes) == 0 {
		return ""
	}
	return " (scopes: " + strings.Join(scopes, ", ") + ")"
}

// checkGitLabScopes fails a token that cannot read the API. An empty list
// means the server did not say (not a personal access token, or an old
// GitLab); the per-group and per-project checks still tell.
func checkGitLabScopes(scopes []string) error {
	if len(scopes) == 0 {
		return nil
	}
	for _, s := range scopes {
		if s == "read_api" || s == "api" {
			return nil
		}
	}
	return fmt.Errorf("token scopes %s lack read_api: create a token with the read_api scope", strings.Join(scopes, ", "))
}

// githubTokenKind names the kind of a GitHub token from its prefix
// (github.blog, "Behind GitHub's new authentication token formats", 2021).
// Only the kind is ever printed, never the token.
type githubTokenKind string

func githubTokenKindOf(token string) githubTokenKind {
	for _, k := range []struct {
		prefix string
		kind   githubTokenKind
	}{
		{"github_pat_", ghFineGrained}, {"ghp_", ghClassic}, {"gho_", ghOAuth},
		{"ghu_", ghAppUser}, {"ghs_", ghAppInstallation}, {"ghr_", ghRefresh},
	} {
		if strings.HasPrefix(token, k.prefix) {
			return k.kind
		}
	}
	return ghUnknown
}

// fineGrainedNeeds is what a fine-grained token or GitHub App needs.
const fineGrainedNeeds = "read-only repository permissions Metadata, Contents and Pull requests on every indexed repository"

// checkGitHubToken prints the token's kind and whether its scopes suffice.
// scopes is X-OAuth-Scopes: nil when they could not be read (GitHub sent no
// such header, or the token failed), which is no reason for a warning: the
// organisation and repository checks tell what the token can read.
func checkGitHubToken(c *checker, name string, kind githubTokenKind, scopes []string) {
	name += " token kind"
	if scopes == nil && (kind == ghClassic || kind == ghOAuth) {
		c.result(name, nil, string(kind)+" (its scopes could not be read)")
		return
	}
	has := func(s string) bool {
		for _, x := range scopes {
			if x == s {
				return true
			}
		}
		return false
	}
	switch kind {
	case ghClassic, ghOAuth:
		switch {
		case has("repo"):
			c.result(name, nil, string(kind)+" with the repo scope")
		case has("public_repo"):
			c.warn(name, string(kind)+" with public_repo only: private repositories stay invisible; add the repo scope to index them")
		default:
			c.warn(name, string(kind)+" without the repo or public_repo scope: only public repositories can be read; "+
				"add repo (private repositories) or public_repo")
		}
	case ghFineGrained:
		c.result(name, nil, string(kind)+" (GitHub reports no scopes for it): it needs "+fineGrainedNeeds)
	case ghAppUser, ghAppInstallation:
		c.warn(name, string(kind)+": it expires (installation tokens after 1 hour, user tokens after 8 hours) and jiralinkd "+
			"does not renew it: use a fine-grained personal access token with "+fineGrainedNeeds)
	case ghRefresh:
		c.result(name, errors.New(string(kind)+": it cannot call the API: use a fine-grained personal access token with "+
			fineGrainedNeeds), "")
	default:
		c.warn(name, "unrecognised token format (GitHub tokens start with ghp_, github_pat_, gho_, ghu_ or ghs_ since 2021): "+
			"if it is an old 40-character token, replace it with a fine-grained personal access token with "+fineGrainedNeeds)
	}
}

// checkProviderClock compares the provider's clock with ours. The Date is
// read from an anonymous HEAD of the configured URL (the API root), which
// carries no credentials and reads no repository data.
func checkProviderClock(ctx context.Context, c *checker, p config.Provider) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	name := p.Name + " clock"
	t, err := serverDate(ctx, p)
	if err != nil {
		c.warn(name, fmt.Sprintf("cannot read the server's time: %v", err))
		return
	}
	checkSkew(c, name, p.Name, t, time.Now())
}

// serverDate returns the Date header of an unauthenticated HEAD of p.URL;
// any status will do, redirects are not followed.
func serverDate(ctx context.Context, p config.Provider) (time.Time, error) {
	hc, err := httpClient(p.Timeout, p.CAFile)
	if err != nil {
		return time.Time{}, err
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, p.URL, nil)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("User-Agent", "jiralinkd/"+version)
	resp, err := hc.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	resp.Body.Close()
	d := resp.Header.Get("Date")
	if d == "" {
		return time.Time{}, errors.New("the response has no Date header")
	}
	return http.ParseTime(d)
}

// checkWebhook says whether the provider's webhook endpoint is on, and
// where its secrets come from (never the secrets).
func checkWebhook(c *checker, p config.Provider) {
	name := p.Name + " webhook"
	if p.Webhook == nil {
		c.warn(name, "webhooks off: polling only (add a webhook section to get links within seconds)")
		return
	}
	var from []string
	if p.Webhook.Secret.IsSet() {
		from = append(from, "secret from "+secretSource(p.Webhook.Secret))
	}
	if p.Webhook.SigningToken.IsSet() {
		from = append(from, "signing token from "+secretSource(p.Webhook.SigningToken))
	}
	c.result(name, nil, fmt.Sprintf("on (%s) at POST /webhooks/%s", strings.Join(from, ", "), p.Name))
}

const (
	ghClassic         githubTokenKind = "classic personal access token"
	ghFineGrained     githubTokenKind = "fine-grained personal access token"
	ghOAuth           githubTokenKind = "OAuth app token"
	ghAppUser         githubTokenKind = "GitHub App user token"
	ghAppInstallation githubTokenKind = "GitHub App installation token"
	ghRefresh         githubTokenKind = "GitHub App refresh token"
	ghUnknown         githubTokenKind = "unknown kind"
)
