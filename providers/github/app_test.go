package github

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

var (
	appKeysOnce sync.Once
	appKeys     [2]*rsa.PrivateKey
)

// appKey returns one of two RSA keys generated once per test binary.
func appKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	appKeysOnce.Do(func() {
		for j := range appKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			appKeys[j] = k
		}
	})
	return appKeys[i]
}

func keyPEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

const testAppID = 4242

// appServer starts a fake GitHub with the App registered (key 0) and the
// given installations; it accepts no other token.
func appServer(t *testing.T, opts githubtest.Options, installs ...githubtest.Installation) *githubtest.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = "not-used-by-apps"
	}
	srv := githubtest.Start(t, opts)
	srv.RegisterApp(githubtest.App{ID: testAppID, Slug: "jiralinkd-test", Name: "jiralinkd test", PublicKey: &appKey(t, 0).PublicKey})
	for _, in := range installs {
		srv.AddInstallation(in)
	}
	return srv
}

func newApp(t *testing.T, srv *githubtest.Server, installation int64, key *rsa.PrivateKey, sl *sleeps) *App {
	t.Helper()
	if sl == nil {
		sl = &sleeps{}
	}
	a, err := NewApp(AppOptions{Name: "github", BaseURL: srv.URL(), AppID: testAppID, InstallationID: installation,
		PrivateKey: keyPEM(key), Retry: httpx.RetryOptions{Sleep: sl.sleep, Pace: true}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// failedRequests returns the logged requests that did not succeed.
func failedRequests(reqs []githubtest.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Status >= 400 || r.Forbidden {
			out = append(out, fmt.Sprintf("%s %s → %d", r.Method, r.Path, r.Status))
		}
	}
	return out
}

func TestAppInfoAndInstallations(t *testing.T) {
	for _, prefix := range []string{"", "/api/v3"} { // github.com and Enterprise Server
		t.Run("prefix="+prefix, func(t *testing.T) {
			srv := appServer(t, githubtest.Options{PathPrefix: prefix},
				githubtest.Installation{ID: 1, Account: "acme"},
				githubtest.Installation{ID: 2, Account: "octo", AccountType: "User", RepositorySelection: "selected", Suspended: true,
					Permissions: map[string]string{"metadata": "read"}})
			a := newApp(t, srv, 0, appKey(t, 0), nil)
			ctx := context.Background()
			info, err := a.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.ID != testAppID || info.Slug != "jiralinkd-test" || info.Permissions["contents"] != "read" || info.ServerTime.IsZero() {
				t.Errorf("info = %+v", info)
			}
			ins, err := a.Installations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) != 2 || ins[0].Account != "acme" || ins[0].RepositorySelection != "all" || ins[0].Suspended ||
				ins[1].AccountType != "User" || !ins[1].Suspended || ins[1].Permissions["contents"] != "" {
				t.Errorf("installations = %+v", ins)
			}
			if exp, err := a.CheckInstallation(ctx, 1); err != nil || time.Until(exp) < 50*time.Minute {
				t.Errorf("CheckInstallation(1) = %v, %v", exp, err)
			}
			_, err = a.CheckInstallation(ctx, 2)
			if !errors.Is(err, ErrInstallationSuspended) || !errors.Is(err, providers.ErrForbidden) ||
				!strings.Contains(err.Error(), "This installation has been suspended") {
				t.Errorf("CheckInstallation(suspended) = %v", err)
			}
			_, err = a.CheckInstallation(ctx, 99)
			if !errors.Is(err, ErrInstallationNotFound) {
				t.Errorf("CheckInstallation(unknown) = %v", err)
			}
			if f := srv.ForbiddenRequests(); len(f) != 0 {
				t.Errorf("forbidden requests: %+v", f)
			}
		})
	}
}

// TestAppWrongKey: a key that is not the App's is refused on GET /app and
// on token creation; the sync's error says so and is an unauthorized
// error (the daemon's hint then names the key setting).
func TestAppWrongKey(t *testing.T) {
	srv := appServer(t, githubtest.Options{}, githubtest.Installation{ID: 1, Account: "acme"})
	srv.AddRepo(githubtest.Repo{ID: 10, Owner: "acme", Name: "api", OwnerIsOrg: true})
	a := newApp(t, srv, 1, appKey(t, 1), nil)
	ctx := context.Background()
	if _, err := a.Info(ctx); !errors.Is(err, ErrAppKeyRejected) || !strings.Contains(err.Error(), "A JSON web token could not be decoded") {
		t.Errorf("Info with a wrong key = %v", err)
	}
	_, err := a.Branches(ctx, providers.Repo{ID: 10, FullName: "acme/api"}, providers.ListState{})
	if !errors.Is(err, ErrAppKeyRejected) || !errors.Is(err, providers.ErrUnauthorized) {
		t.Fatalf("Branches with a wrong key = %v", err)
	}
	if !strings.Contains(err.Error(), "access token for installation 1: HTTP 401: GitHub rejected the App's JWT") {
		t.Errorf("error does not explain: %v", err)
	}
	if srv.TokensIssued(1) != 0 {
		t.Errorf("a token was issued for a wrong key")
	}
}

// TestAppTokenRefreshAcrossExpiry: a backfill that outlives several
// installation tokens never sends an expired one: ghinstallation renews a
// minute before expiry, so every request succeeds.
func TestAppTokenRefreshAcrossExpiry(t *testing.T) {
	srv := appServer(t, githubtest.Options{}, githubtest.Installation{ID: 7, Account: "acme"})
	// Tokens live 61.5 s, so they are renewed after 0.5 to 1.5 s.
	srv.SetTokenLifetime(61*time.Second + 500*time.Millisecond)
	b := corpus.NewBuilder()
	var head string
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2500 {
		var parents []string
		if head != "" {
			parents = []string{head}
		}
		head = b.Commit(parents, fmt.Sprintf("ABC-%d commit", i+1), start.Add(time.Duration(i)*time.Minute))
	}
	b.Branch("main", head)
	srv.AddCorpusRepo("acme", "big", 11, b.Build())
	srv.SetLatency(120 * time.Millisecond) // 25 pages ≈ 3 s: several token lifetimes
	a := newApp(t, srv, 7, appKey(t, 0), nil)

	n := 0
	err := a.Commits(context.Background(), providers.Repo{ID: 11, FullName: "acme/big"}, head, 1, func(providers.Commit, int) (bool, error) {
		n++
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2500 {
		t.Errorf("listed %d commits, want 2500", n)
	}
	if f := failedRequests(srv.Requests()); len(f) != 0 {
		t.Errorf("failed requests during the backfill: %v", f)
	}
	if got := srv.TokensIssued(7); got < 3 {
		t.Errorf("%d tokens issued, want the backfill to span at least 3", got)
	}
	var tokens, pages int
	for _, r := range srv.Requests() {
		switch r.Route {
		case "POST /app/installations/{id}/access_tokens":
			tokens++
		case "GET /repos/{owner}/{repo}/commits":
			pages++
		}
	}
	if pages != 25 || tokens != srv.TokensIssued(7) {
		t.Errorf("%d commit pages, %d token requests", pages, tokens)
	}
}

func TestAppDiscoveryAndDispatch(t *testing.T) {
	srv := appServer(t, githubtest.Options{},
		githubtest.Installation{ID: 1, Account: "acme", RateLimit: 12500},
		githubtest.Installation{ID: 2, Account: "octo", RepositorySelection: "selected", Repos: []int64{21}},
		githubtest.Installation{ID: 3, Account: "frozen", Suspended: true})
	b, sha := oneCommit()
	b.Branch("main", sha)
	h := b.Build()
	for i := range 150 { // two pages for installation 1
		srv.AddCorpusRepo("acme", fmt.Sprintf("r%03d", i), int64(1000+i), h)
	}
	srv.AddCorpusRepo("octo", "shared", 21, h)
	srv.AddCorpusRepo("octo", "private", 22, h)
	srv.AddCorpusRepo("frozen", "x", 31, h)
	sl := &sleeps{}
	a := newApp(t, srv, 0, appKey(t, 0), sl)
	ctx := context.Background()

	l, err := a.OwnerRepos(ctx, AllInstallations, providers.ListState{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 151 || l.Items[0].FullName != "acme/r000" || l.Items[150].FullName != "octo/shared" {
		t.Fatalf("discovered %d repos: first %v", len(l.Items), l.Items[:1])
	}
	// Unchanged: all 304s, nothing counted against any budget.
	srv.ResetRequests()
	l2, err := a.OwnerRepos(ctx, AllInstallations, l.State)
	if err != nil || !l2.Unchanged {
		t.Fatalf("second discovery: unchanged=%v err=%v", l2.Unchanged, err)
	}
	// Installation 2 loses its repo: the listing changes and drops it.
	srv.SetInstallationRepos(2, "selected", nil)
	l3, err := a.OwnerRepos(ctx, AllInstallations, l.State)
	if err != nil || l3.Unchanged || len(l3.Items) != 150 {
		t.Fatalf("after losing access: %d repos, unchanged=%v, err=%v", len(l3.Items), l3.Unchanged, err)
	}
	if _, err := a.Lookup(ctx, providers.Repo{ID: 21, FullName: "octo/shared"}); err == nil {
		t.Errorf("Lookup of a repo no installation sees succeeded")
	}
	// Per-owner requests go to the owner's installation.
	if _, err := a.Branches(ctx, providers.Repo{ID: 1000, FullName: "acme/r000"}, providers.ListState{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Repo(ctx, "octo/private", providers.ListState{}); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("repo outside the selection: %v", err)
	}
	if _, err := a.Repo(ctx, "nobody/x", providers.ListState{}); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("repo of an account without installation: %v", err)
	}

	// Separate budgets: each installation's headers, and pacing of one
	// does not slow the other.
	rls := a.RateLimits()
	if len(rls) != 2 || rls[0].Limit != 12500 || rls[1].Limit != 5000 {
		t.Fatalf("rate limits = %+v", rls)
	}
	if srv.RateRemaining() != 5000 {
		t.Errorf("the token budget was used: %d left", srv.RateRemaining())
	}
	srv.SetInstallationRateRemaining(2, 0)
	if _, err := a.Repo(ctx, "octo/shared", providers.ListState{}); !errors.Is(err, providers.ErrRateLimited) {
		t.Fatalf("exhausted installation: %v", err)
	}
	if low := a.RateLimit(); !low.Known || low.Remaining != 0 || low.Limit != 5000 {
		t.Errorf("RateLimit = %+v, want installation 2's exhausted budget", low)
	}
	waits := len(sl.d)
	for range 3 {
		if _, err := a.Branches(ctx, providers.Repo{ID: 1000, FullName: "acme/r000"}, providers.ListState{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(sl.d) != waits {
		t.Errorf("installation 1 waited for installation 2's budget: %v", sl.d[waits:])
	}
	_, _ = a.Repo(ctx, "octo/shared", providers.ListState{}) // paced: waits for the reset first
	if len(sl.d) == waits {
		t.Errorf("installation 2 did not wait for its reset")
	}
	if f := srv.ForbiddenRequests(); len(f) != 0 {
		t.Errorf("forbidden requests: %+v", f)
	}
}

// TestAppTokenCreationRetried: a transient failure creating the token is
// retried like any request; a permanent one is not.
func TestAppTokenCreationRetried(t *testing.T) {
	srv := appServer(t, githubtest.Options{}, githubtest.Installation{ID: 1, Account: "acme"})
	srv.AddRepo(githubtest.Repo{ID: 10, Owner: "acme", Name: "api", OwnerIsOrg: true})
	sl := &sleeps{}
	a := newApp(t, srv, 1, appKey(t, 0), sl)
	srv.FailNext("POST /app/installations/{id}/access_tokens", 2, 502, nil, `{"message":"Server Error"}`)
	if _, err := a.Branches(context.Background(), providers.Repo{ID: 10, FullName: "acme/api"}, providers.ListState{}); err != nil {
		t.Fatalf("Branches after two 502s on token creation: %v", err)
	}
	if len(sl.d) != 2 || srv.TokensIssued(1) != 1 {
		t.Errorf("%d waits, %d tokens", len(sl.d), srv.TokensIssued(1))
	}
}
