package httpx

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

func TestRetryAfter(t *testing.T) {
	var gl gitlabRateLimit
	readFixture(t, "gitlab-ratelimit-headers.json", &gl)

	tests := []struct {
		name  string
		first step
		want  time.Duration
	}{
		{"jira 429 delta-seconds", step{429, hdr("Retry-After", "7"), ""}, 7 * time.Second},
		{"429 HTTP date", step{429, hdr("Retry-After", gl.Headers["RateLimit-ResetTime"]), ""}, time.Minute},
		{"429 HTTP date in the past", step{429, hdr("Retry-After", "Tue, 05 Jan 2021 10:00:00 GMT"), ""}, 0},
		{"gitlab 429 Retry-After wins over reset", step{gl.Status, gl.header(), gl.Body}, 30 * time.Second},
		{"503 Retry-After", step{503, hdr("Retry-After", "3"), ""}, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, tc.first, step{200, nil, "ok"})
			tr, rec := newTestTransport(RetryOptions{Name: "test"})
			resp, err := get(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || mustBody(t, resp) != "ok" {
				t.Fatalf("got status %d, want the retried 200", resp.StatusCode)
			}
			if got := rec.got(); !slices.Equal(got, []time.Duration{tc.want}) {
				t.Errorf("sleeps = %v, want [%v]", got, tc.want)
			}
			if srv.requests() != 2 {
				t.Errorf("requests = %d, want 2", srv.requests())
			}
		})
	}
}

func TestRateLimitWaits(t *testing.T) {
	var msgs observedMessages
	readFixture(t, "github-rate-limit.observed.json", &msgs)
	var gl gitlabRateLimit
	readFixture(t, "gitlab-ratelimit-headers.json", &gl)
	reset := testNow.Add(2 * time.Minute).Unix()
	resetStr := itoa(reset)

	type tc struct {
		name  string
		first step
		want  time.Duration
	}
	tests := []tc{
		{
			name: "github primary 403 waits for reset plus 1s",
			first: step{403, hdr("X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", resetStr),
				githubError(msgs.Primary[0].Message)},
			want: 2*time.Minute + time.Second,
		},
		{
			name:  "github primary 429",
			first: step{429, hdr("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", resetStr), ""},
			want:  2*time.Minute + time.Second,
		},
		{
			name: "github secondary with Retry-After",
			first: step{403, hdr("X-RateLimit-Remaining", "4000", "Retry-After", "45"),
				githubError(msgs.Secondary[0].Message)},
			want: 45 * time.Second,
		},
		{
			name: "github secondary with remaining 0 waits for reset",
			first: step{403, hdr("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", resetStr),
				githubError(msgs.Secondary[0].Message)},
			want: 2*time.Minute + time.Second,
		},
		{
			name:  "gitlab 429 without Retry-After waits for RateLimit-Reset",
			first: step{gl.Status, gl.header("Retry-After"), gl.Body},
			want:  time.Minute + time.Second, // reset is 11:00:00, now 10:59:00
		},
		{
			name:  "bare 429 backs off",
			first: step{429, nil, "Retry later"},
			want:  time.Second,
		},
	}
	for _, m := range msgs.Secondary {
		tests = append(tests, tc{
			name:  "github secondary message: " + m.Message[:40],
			first: step{403, hdr("X-RateLimit-Remaining", "4999"), githubError(m.Message)},
			want:  time.Minute,
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, tc.first, step{200, nil, "ok"})
			tr, rec := newTestTransport(RetryOptions{Name: "github"})
			resp, err := get(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200 after retry", resp.StatusCode)
			}
			resp.Body.Close()
			if got := rec.got(); !slices.Equal(got, []time.Duration{tc.want}) {
				t.Errorf("sleeps = %v, want [%v]", got, tc.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSecondaryBacksOffExponentially(t *testing.T) {
	var msgs observedMessages
	readFixture(t, "github-rate-limit.observed.json", &msgs)
	body := githubError(msgs.Secondary[2].Message)
	srv := newScriptServer(t, step{403, nil, body}, step{403, nil, body}, step{403, nil, body}, step{200, nil, ""})
	tr, rec := newTestTransport(RetryOptions{})
	resp, err := get(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

func TestMaxWaitExceededReturnsRateLimitError(t *testing.T) {
	reset := itoa(testNow.Add(time.Hour).Unix())
	tests := []struct {
		name      string
		first     step
		wantReset time.Time
	}{
		{"Retry-After", step{429, hdr("Retry-After", "3600"), ""}, testNow.Add(time.Hour)},
		{"github primary reset", step{403, hdr("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset), "{}"}, testNow.Add(time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, tc.first, step{200, nil, ""})
			tr, rec := newTestTransport(RetryOptions{Name: "github", MaxWait: 15 * time.Minute})
			// Through http.Client, as the providers use it: *url.Error must
			// still unwrap to the sentinel.
			client := &http.Client{Transport: tr}
			resp, err := client.Get(srv.URL)
			if resp != nil {
				resp.Body.Close()
				t.Fatalf("got a response (%d), want none", resp.StatusCode)
			}
			if !errors.Is(err, providers.ErrRateLimited) {
				t.Fatalf("err = %v, want errors.Is ErrRateLimited", err)
			}
			var rle *RateLimitError
			if !errors.As(err, &rle) {
				t.Fatalf("err = %T, want *RateLimitError", err)
			}
			if rle.System != "github" || rle.Status != tc.first.status || !rle.ResetAt.Equal(tc.wantReset) {
				t.Errorf("RateLimitError = %+v", rle)
			}
			for _, want := range []string{"github", itoa(int64(tc.first.status)), "2021-01-05T11:59:00Z"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if len(rec.got()) != 0 || srv.requests() != 1 {
				t.Errorf("slept %v after %d requests; want no sleep, 1 request", rec.got(), srv.requests())
			}
		})
	}
}

func TestRateLimitWaitBeyondContextDeadline(t *testing.T) {
	srv := newScriptServer(t, step{429, hdr("Retry-After", "60"), ""}, step{200, nil, ""})
	tr, rec := newTestTransport(RetryOptions{Name: "jira"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if resp != nil || !errors.Is(err, providers.ErrRateLimited) {
		t.Fatalf("resp=%v err=%v, want RateLimitError", resp, err)
	}
	if len(rec.got()) != 0 {
		t.Errorf("slept %v, want no sleep", rec.got())
	}
}

func TestRateLimitExhaustionReturnsLastResponse(t *testing.T) {
	srv := newScriptServer(t, step{429, hdr("Retry-After", "1"), "slow down"})
	tr, rec := newTestTransport(RetryOptions{MaxAttempts: 3})
	resp, err := get(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || mustBody(t, resp) != "slow down" {
		t.Errorf("want the last 429 with its body, got %d", resp.StatusCode)
	}
	if srv.requests() != 3 || len(rec.got()) != 2 {
		t.Errorf("requests=%d sleeps=%v, want 3 requests, 2 sleeps", srv.requests(), rec.got())
	}
}

func TestRateLimitRecorded(t *testing.T) {
	var exchanges []octokitExchange
	readFixture(t, "github-errors.normalized-fixture.json", &exchanges)
	ex := exchanges[0]
	var gl gitlabRateLimit
	readFixture(t, "gitlab-ratelimit-headers.json", &gl)

	srv := newScriptServer(t,
		step{ex.Status, ex.header(), string(ex.Response)},
		step{200, nil, ""}, // no budget headers: keeps the previous value
		step{200, gl.header(), ""},
	)
	tr, rec := newTestTransport(RetryOptions{})
	if rl := tr.RateLimit(); rl.Known {
		t.Fatalf("RateLimit before any response = %+v, want unknown", rl)
	}

	resp, err := get(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The recorded 422 Validation Failed is a real error: not retried.
	if resp.StatusCode != 422 || mustBody(t, resp) != string(ex.Response) || len(rec.got()) != 0 {
		t.Fatalf("422: status %d, sleeps %v", resp.StatusCode, rec.got())
	}
	// Octokit normalizes x-ratelimit-reset to 1507651200000; read as epoch seconds.
	want := RateLimit{Limit: 5000, Remaining: 4999, Reset: time.Unix(1507651200000, 0), Known: true}
	if got := tr.RateLimit(); got != want {
		t.Errorf("RateLimit = %+v, want %+v", got, want)
	}

	resp, _ = get(t, tr, srv.URL)
	resp.Body.Close()
	if got := tr.RateLimit(); got != want {
		t.Errorf("after a response without headers RateLimit = %+v, want unchanged %+v", got, want)
	}

	resp, _ = get(t, tr, srv.URL)
	resp.Body.Close()
	want = RateLimit{Limit: 60, Remaining: 0, Reset: time.Unix(1609844400, 0), Known: true}
	if got := tr.RateLimit(); got != want {
		t.Errorf("GitLab RateLimit = %+v, want %+v", got, want)
	}
}

func TestParseResetISO(t *testing.T) {
	got, ok := parseReset(hdr("X-RateLimit-Reset", "2024-03-01T10:00Z"))
	if want := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("parseReset = %v, %v; want %v", got, ok, want)
	}
	if _, ok := parseReset(hdr("X-RateLimit-Reset", "soon")); ok {
		t.Error("parseReset accepted garbage")
	}
}

// GitHub's search API has its own budget (30 a minute), announced with
// X-RateLimit-Resource: search. It must neither replace the core budget
// RateLimit reports nor make pace spread later core requests over the
// search window.
func TestSearchBudgetKeptApartFromCore(t *testing.T) {
	reset := itoa(testNow.Add(30 * time.Minute).Unix())
	searchReset := itoa(testNow.Add(time.Minute).Unix())
	core := hdr("X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "4000", "X-RateLimit-Reset", reset, "X-RateLimit-Resource", "core")
	search := hdr("X-RateLimit-Limit", "30", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset", searchReset, "X-RateLimit-Resource", "search")
	srv := newScriptServer(t, step{200, core, "core"}, step{200, search, "search"}, step{200, core, "core"})
	tr, rec := newTestTransport(RetryOptions{Pace: true})
	for range 3 {
		resp, err := get(t, tr, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := tr.RateLimit(); got.Limit != 5000 || got.Remaining != 4000 || !got.Reset.Equal(testNow.Add(30*time.Minute)) {
			t.Fatalf("RateLimit = %+v, want the core budget (5000, 4000 left)", got)
		}
	}
	if got := rec.got(); len(got) != 0 {
		t.Errorf("paced %v: a nearly spent search budget slowed core requests", got)
	}
}

// Jira Data Center 8.6+ describes its token bucket on every response
// (https://confluence.atlassian.com/jirakb, "Rate limiting HTTP headers").
func TestParseRateLimitJiraDataCenter(t *testing.T) {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "50")
	h.Set("X-RateLimit-Remaining", "42")
	h.Set("X-RateLimit-FillRate", "10")
	h.Set("X-RateLimit-Interval-Seconds", "2")
	got, ok := parseRateLimit(h)
	want := RateLimit{Limit: 50, Remaining: 42, Known: true, FillRate: 10, Interval: 2 * time.Second}
	if !ok || got != want {
		t.Fatalf("parseRateLimit = %+v, %v; want %+v", got, ok, want)
	}
	if s := got.Sustained(); s != 5 {
		t.Errorf("Sustained = %v, want 5 requests/s", s)
	}
	h.Set("X-RateLimit-Interval-Seconds", "0")
	if got, _ := parseRateLimit(h); got.FillRate != 0 || got.Sustained() != 0 {
		t.Errorf("a zero interval gave %+v, want no fill rate", got)
	}
}
