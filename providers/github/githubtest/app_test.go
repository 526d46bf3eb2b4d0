package githubtest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

var appKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// signJWT signs an App JWT with the given claims.
func signJWT(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(appKey())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func appFake(t *testing.T, clock *fakeserver.Clock) *githubtest.Server {
	t.Helper()
	s := githubtest.Start(t, githubtest.Options{Token: token, Now: clock.Now})
	s.RegisterApp(githubtest.App{ID: 7, Slug: "linker", Name: "Linker", PublicKey: &appKey().PublicKey})
	s.AddInstallation(githubtest.Installation{ID: 70, Account: "acme", RepositorySelection: "selected", Repos: []int64{1, 2, 3}})
	s.AddInstallation(githubtest.Installation{ID: 71, Account: "octo", Suspended: true})
	for i := int64(1); i <= 4; i++ {
		s.AddRepo(githubtest.Repo{ID: i, Owner: "acme", Name: fmt.Sprintf("r%d", i), OwnerIsOrg: true})
	}
	return s
}

func do(t *testing.T, s *githubtest.Server, method, path, auth string) fakeserver.Reply {
	t.Helper()
	return fakeserver.Do(t, http.DefaultClient, method, s.URL()+strings.TrimPrefix(path, "/"), "Authorization: "+auth)
}

func message(t *testing.T, r fakeserver.Reply) string {
	t.Helper()
	var e ghError
	_ = json.Unmarshal(r.Body, &e)
	return e.Message
}

func TestAppJWTVerification(t *testing.T) {
	clock := newClock()
	s := appFake(t, clock)
	now := clock.Now().Unix()
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrongKey, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "7", "iat": now - 30, "exp": now + 90}).SignedString(other)
	for _, c := range []struct {
		name, auth string
		status     int
		msg        string
	}{
		{"valid string iss", "Bearer " + signJWT(t, jwt.MapClaims{"iss": "7", "iat": now - 30, "exp": now + 90}), 200, ""},
		{"valid numeric iss", "Bearer " + signJWT(t, jwt.MapClaims{"iss": 7, "iat": now - 60, "exp": now + 540}), 200, ""},
		{"wrong key", "Bearer " + wrongKey, 401, "A JSON web token could not be decoded"},
		{"wrong app id", "Bearer " + signJWT(t, jwt.MapClaims{"iss": "8", "iat": now - 30, "exp": now + 90}), 401, "A JSON web token could not be decoded"},
		{"iat in the future", "Bearer " + signJWT(t, jwt.MapClaims{"iss": "7", "iat": now + 5, "exp": now + 90}), 401, "'Issued at' claim ('iat') must be an Integer representing the time that the JWT was issued"},
		{"expired", "Bearer " + signJWT(t, jwt.MapClaims{"iss": "7", "iat": now - 700, "exp": now - 100}), 401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"},
		{"exp too far", "Bearer " + signJWT(t, jwt.MapClaims{"iss": "7", "iat": now, "exp": now + 660}), 401, "'Expiration time' claim ('exp') is too far in the future"},
		{"personal token", "Bearer " + token, 401, "A JSON web token could not be decoded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, s, "GET", "/app", c.auth)
			if r.Status != c.status || message(t, r) != c.msg {
				t.Errorf("GET /app = %d %q, want %d %q", r.Status, message(t, r), c.status, c.msg)
			}
		})
	}
}

func TestAppInstallationTokens(t *testing.T) {
	clock := newClock()
	s := appFake(t, clock)
	s.SetTokenLifetime(10 * time.Minute)
	now := clock.Now().Unix()
	appJWT := "Bearer " + signJWT(t, jwt.MapClaims{"iss": "7", "iat": now - 30, "exp": now + 90})

	r := do(t, s, "POST", "/app/installations/71/access_tokens", appJWT)
	if r.Status != http.StatusForbidden || message(t, r) != "This installation has been suspended" {
		t.Errorf("suspended installation: %d %s", r.Status, r.Body)
	}
	if r := do(t, s, "POST", "/app/installations/99/access_tokens", appJWT); r.Status != http.StatusNotFound {
		t.Errorf("unknown installation: %d", r.Status)
	}
	r = do(t, s, "POST", "/app/installations/70/access_tokens", appJWT)
	var tok struct {
		Token               string            `json:"token"`
		ExpiresAt           time.Time         `json:"expires_at"`
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
	}
	if err := json.Unmarshal(r.Body, &tok); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("create token: %d %s", r.Status, r.Body)
	}
	if !strings.HasPrefix(tok.Token, "ghs_") || !tok.ExpiresAt.Equal(clock.Now().Add(10*time.Minute)) ||
		tok.Permissions["metadata"] != "read" || tok.RepositorySelection != "selected" {
		t.Errorf("token answer = %+v", tok)
	}
	inst := "token " + tok.Token

	// The installation sees its selected repositories only.
	if r := do(t, s, "GET", "/repos/acme/r2", inst); r.Status != 200 {
		t.Errorf("selected repo: %d", r.Status)
	}
	if r := do(t, s, "GET", "/repos/acme/r4", inst); r.Status != 404 {
		t.Errorf("repo outside the selection: %d", r.Status)
	}
	r = do(t, s, "GET", "/installation/repositories?per_page=2", inst)
	var list struct {
		TotalCount          int    `json:"total_count"`
		RepositorySelection string `json:"repository_selection"`
		Repositories        []struct {
			FullName string `json:"full_name"`
		} `json:"repositories"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil || r.Status != 200 {
		t.Fatalf("installation repositories: %d %s", r.Status, r.Body)
	}
	if list.TotalCount != 3 || len(list.Repositories) != 2 || list.Repositories[0].FullName != "acme/r1" || list.RepositorySelection != "selected" {
		t.Errorf("installation repositories = %+v", list)
	}
	if link := r.Header.Get("Link"); !strings.Contains(link, `/installation/repositories?per_page=2&page=2>; rel="next"`) {
		t.Errorf("Link = %q", link)
	}
	// Its own budget, not the configured token's.
	if r.Header.Get("X-RateLimit-Remaining") != "4997" || s.RateRemaining() != 5000 || s.InstallationRateRemaining(70) != 4997 {
		t.Errorf("remaining: header %s, token %d, installation %d", r.Header.Get("X-RateLimit-Remaining"), s.RateRemaining(), s.InstallationRateRemaining(70))
	}
	// A personal token cannot list installation repositories; the JWT
	// cannot read repositories.
	if r := do(t, s, "GET", "/installation/repositories", "Bearer "+token); r.Status != http.StatusForbidden {
		t.Errorf("installation repositories with a PAT: %d", r.Status)
	}
	if r := do(t, s, "GET", "/repos/acme/r1", appJWT); r.Status != http.StatusUnauthorized {
		t.Errorf("repository with the JWT: %d", r.Status)
	}
	// Expired: refused.
	clock.Add(10 * time.Minute)
	if r := do(t, s, "GET", "/repos/acme/r1", inst); r.Status != http.StatusUnauthorized || message(t, r) != "Bad credentials" {
		t.Errorf("expired token: %d %s", r.Status, r.Body)
	}
	if f := s.ForbiddenRequests(); len(f) != 0 {
		t.Errorf("forbidden: %+v", f)
	}
}

// TestInstallationShape: every field of a real installation object is in
// the fake's GET /app/installations items, with the same JSON type.
func TestInstallationShape(t *testing.T) {
	clock := newClock()
	s := appFake(t, clock)
	now := clock.Now().Unix()
	r := do(t, s, "GET", "/app/installations", "Bearer "+signJWT(t, jwt.MapClaims{"iss": "7", "iat": now - 30, "exp": now + 90}))
	var got []any
	if err := json.Unmarshal(r.Body, &got); err != nil || len(got) != 2 {
		t.Fatalf("installations: %d %s", r.Status, r.Body)
	}
	payload := fakeserver.LoadJSON(t, "testdata/octokit-webhooks-installation-suspend.payload.json").(map[string]any)
	// The example was a suspended installation, like the fake's second;
	// its permissions and events are that App's own choice.
	want := payload["installation"].(map[string]any)
	want["permissions"], want["events"] = map[string]any{}, []any{}
	for _, d := range fakeserver.ShapeDiff(want, got[1], nil) {
		t.Error(d)
	}
}
