package jiraclient_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

const testToken = "pat-0123456789-secret"

// testProjects keeps the fake small and predictable.
var testProjects = []jiraclient.Project{
	{ID: "10000", Key: "ABC", Name: "Alpha"},
	{ID: "10001", Key: "DEF", Name: "Delta"},
	{ID: "10002", Key: "A_B2", Name: "Underscored"},
}

// sleeps records the injected retry waits.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// startFake starts a fake where every issue of the test projects exists.
func startFake(t *testing.T, mod func(*jiratest.Options)) *jiratest.Server {
	t.Helper()
	opts := jiratest.Options{Token: testToken, Projects: testProjects, IssueExists: jiratest.AllIssues}
	if mod != nil {
		mod(&opts)
	}
	return jiratest.Start(t, opts)
}

// newClient returns a token client for baseURL whose retries never sleep.
func newClient(t *testing.T, baseURL string, mod func(*jiraclient.Options)) (*jiraclient.Client, *sleeps) {
	t.Helper()
	rec := &sleeps{}
	opts := jiraclient.Options{
		BaseURL: baseURL,
		Auth:    jiraclient.Auth{Token: testToken},
		Retry:   httpx.RetryOptions{Sleep: rec.sleep},
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := jiraclient.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sampleLink(globalID string) jiraclient.RemoteLink {
	return jiraclient.RemoteLink{
		GlobalID:     globalID,
		Application:  &jiraclient.Application{Type: "com.github", Name: "GitHub"},
		Relationship: "mentioned in",
		Object: jiraclient.Object{
			URL:   "https://github.com/octocat/Hello-World/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
			Title: "6dcb09b Fix all the bugs",
			Icon:  &jiraclient.Icon{URL16: "https://github.com/favicon.ico", Title: "Commit"},
		},
	}
}
