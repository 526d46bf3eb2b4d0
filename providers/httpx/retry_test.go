package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestGatewayErrorsRetried(t *testing.T) {
	for _, status := range []int{502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := newScriptServer(t, step{status, nil, "down"}, step{status, nil, "down"}, step{200, nil, "ok"})
			tr, rec := newTestTransport(RetryOptions{BaseBackoff: time.Second, MaxBackoff: 30 * time.Second})
			resp, err := get(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || mustBody(t, resp) != "ok" {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			// Jitter is pinned to its ceiling: 1s, then 2s.
			if got, want := rec.got(), []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(got, want) {
				t.Errorf("sleeps = %v, want %v", got, want)
			}
		})
	}
}

// TestServerError500RetriedOnlyWhenIdempotent: a 500 may come after the
// server did the work, so it is retried for requests that are safe to
// repeat (GET, HEAD, PUT, DELETE, a POST marked idempotent) and returned
// at once for a plain POST and for a send-once request (no GetBody).
func TestServerError500RetriedOnlyWhenIdempotent(t *testing.T) {
	jiraBody := `{"errorMessages":["Internal server error"],"errors":{}}`
	tests := []struct {
		name     string
		method   string
		body     string
		mark     bool
		sendOnce bool
		retried  bool
	}{
		{"GET", http.MethodGet, "", false, false, true},
		{"HEAD", http.MethodHead, "", false, false, true},
		{"PUT", http.MethodPut, `{"a":1}`, false, false, true},
		{"DELETE", http.MethodDelete, "", false, false, true},
		{"idempotent POST", http.MethodPost, `{"globalId":"x"}`, true, false, true},
		{"plain POST", http.MethodPost, `{"body":"comment"}`, false, false, false},
		{"send-once POST", http.MethodPost, `{"body":"comment"}`, true, true, false},
		{"send-once PUT", http.MethodPut, `{"a":1}`, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, step{500, nil, jiraBody}, step{200, nil, "ok"})
			tr, rec := newTestTransport(RetryOptions{BaseBackoff: time.Second})
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, srv.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.mark {
				MarkIdempotent(req)
			}
			if tc.sendOnce {
				req.GetBody = nil
			}
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			wantStatus, wantRequests, wantSleeps := 500, 1, 0
			if tc.retried {
				wantStatus, wantRequests, wantSleeps = 200, 2, 1
			}
			if resp.StatusCode != wantStatus || srv.requests() != wantRequests || len(rec.got()) != wantSleeps {
				t.Errorf("status=%d requests=%d sleeps=%v; want %d after %d request(s), %d sleep(s)",
					resp.StatusCode, srv.requests(), rec.got(), wantStatus, wantRequests, wantSleeps)
			}
			if tc.body != "" && tc.retried {
				srv.mu.Lock()
				bodies := slices.Clone(srv.bodies)
				srv.mu.Unlock()
				if !slices.Equal(bodies, []string{tc.body, tc.body}) {
					t.Errorf("bodies = %q, want the payload twice", bodies)
				}
			}
		})
	}
}

func TestServerError500HonoursRetryAfterAndBound(t *testing.T) {
	srv := newScriptServer(t, step{500, hdr("Retry-After", "7"), "boom"})
	tr, rec := newTestTransport(RetryOptions{MaxAttempts: 3, BaseBackoff: time.Second})
	resp, err := get(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 500 || mustBody(t, resp) != "boom" || srv.requests() != 3 {
		t.Errorf("status=%d requests=%d; want the last 500 after 3 attempts", resp.StatusCode, srv.requests())
	}
	if got, want := rec.got(), []time.Duration{7 * time.Second, 7 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

func TestIdempotentMarkerNotSent(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, fmt.Sprint(r.Header.Values(IdempotencyHeader)))
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	MarkIdempotent(req)
	if !Idempotent(req) {
		t.Fatal("a marked POST is not idempotent")
	}
	resp, err := NewRetryTransport(nil, RetryOptions{}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !slices.Equal(seen, []string{"[]"}) {
		t.Errorf("server saw %s headers %v, want none", IdempotencyHeader, seen)
	}
	plain, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	if Idempotent(plain) {
		t.Error("a plain POST counts as idempotent")
	}
}

func TestNotRetried(t *testing.T) {
	var msgs observedMessages
	readFixture(t, "github-rate-limit.observed.json", &msgs)
	permission := `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}`
	tests := []struct {
		name string
		step step
	}{
		{"403 permission", step{403, hdr("X-RateLimit-Remaining", "4999", "X-RateLimit-Limit", "5000"), permission}},
		{"403 without headers", step{403, nil, "<html>Forbidden</html>"}},
		{"404", step{404, nil, `{"message":"Not Found"}`}},
		{"401", step{401, nil, `{"message":"Bad credentials"}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, tc.step, step{200, nil, "retried!"})
			tr, rec := newTestTransport(RetryOptions{})
			resp, err := get(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.step.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.step.status)
			}
			// A 403 body is read to classify it; the caller must still get it whole.
			if got := mustBody(t, resp); got != tc.step.body {
				t.Errorf("body = %q, want %q", got, tc.step.body)
			}
			if srv.requests() != 1 || len(rec.got()) != 0 {
				t.Errorf("requests=%d sleeps=%v, want 1 request and no sleep", srv.requests(), rec.got())
			}
		})
	}
}

func TestLarge403BodyRestored(t *testing.T) {
	body := `{"message":"Must have admin rights","pad":"` + strings.Repeat("x", 3*maxClassifyBody) + `"}`
	srv := newScriptServer(t, step{403, nil, body})
	tr, _ := newTestTransport(RetryOptions{})
	resp, err := get(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustBody(t, resp); got != body {
		t.Errorf("body of %d bytes came back as %d bytes", len(body), len(got))
	}
}

func TestBoundedAttempts(t *testing.T) {
	srv := newScriptServer(t, step{503, nil, "still down"})
	tr, rec := newTestTransport(RetryOptions{MaxAttempts: 3, BaseBackoff: 10 * time.Second, MaxBackoff: 15 * time.Second})
	resp, err := get(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || mustBody(t, resp) != "still down" {
		t.Errorf("want the last 503 with its body, got %d", resp.StatusCode)
	}
	if srv.requests() != 3 {
		t.Errorf("requests = %d, want 3", srv.requests())
	}
	// Exponential 10s, 20s capped at MaxBackoff 15s.
	if got, want := rec.got(), []time.Duration{10 * time.Second, 15 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

func TestBackoffJitterWithinCeiling(t *testing.T) {
	tr := NewRetryTransport(nil, RetryOptions{BaseBackoff: time.Second, MaxBackoff: 4 * time.Second})
	for attempt := 1; attempt <= 6; attempt++ {
		ceiling := min(time.Second<<(attempt-1), 4*time.Second)
		for range 50 {
			if d := tr.backoff(attempt); d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, outside [0, %v]", attempt, d, ceiling)
			}
		}
	}
}

func TestPostBodyResent(t *testing.T) {
	payload := `{"globalId":"x","object":{"url":"https://example.com","title":"t"}}`
	srv := newScriptServer(t, step{503, nil, ""}, step{429, hdr("Retry-After", "1"), ""}, step{201, nil, "created"})
	tr, _ := newTestTransport(RetryOptions{})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(payload))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	resp.Body.Close()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if want := []string{payload, payload, payload}; !slices.Equal(srv.bodies, want) {
		t.Errorf("server saw bodies %q, want the payload 3 times", srv.bodies)
	}
}

func TestBodyWithoutGetBodyNotRetried(t *testing.T) {
	srv := newScriptServer(t, step{503, nil, ""}, step{200, nil, ""})
	tr, rec := newTestTransport(RetryOptions{})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, io.NopCloser(strings.NewReader("once")))
	req.GetBody = nil
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || srv.requests() != 1 || len(rec.got()) != 0 {
		t.Errorf("status=%d requests=%d sleeps=%v; want the 503 unretried", resp.StatusCode, srv.requests(), rec.got())
	}
}

func TestContextCancelDuringWait(t *testing.T) {
	srv := newScriptServer(t, step{429, hdr("Retry-After", "30"), ""}, step{200, nil, ""})
	// Real default Sleep: cancellation must cut the 30s wait short.
	tr := NewRetryTransport(nil, RetryOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v; the wait ignored the context", took)
	}
	if srv.requests() != 1 {
		t.Errorf("requests = %d, want 1", srv.requests())
	}
}

// errTransport fails every round trip with err.
type errTransport struct {
	err   error
	calls int
}

func (e *errTransport) RoundTrip(*http.Request) (*http.Response, error) {
	e.calls++
	return nil, e.err
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestNetworkErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	tests := []struct {
		err       error
		wantCalls int
	}{
		{refused, 3},
		{reset, 3},
		{io.ErrUnexpectedEOF, 3},
		{fmt.Errorf("wrapped: %w", timeoutErr{}), 3},
		{&net.DNSError{Err: "server misbehaving", Name: "jira", IsTemporary: true}, 3},
		{&net.DNSError{Err: "no such host", Name: "jira", IsNotFound: true}, 1},
		{errors.New("tls: failed to verify certificate"), 1},
		{context.Canceled, 1},
		{fmt.Errorf("read: %w", context.DeadlineExceeded), 1},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			next := &errTransport{err: tc.err}
			tr := NewRetryTransport(next, RetryOptions{MaxAttempts: 3, Sleep: (&sleepRecorder{}).sleep})
			req, _ := http.NewRequest(http.MethodGet, "http://jira.invalid/rest", nil)
			resp, err := tr.RoundTrip(req)
			if resp != nil || !errors.Is(err, tc.err) {
				t.Errorf("got (%v, %v), want the transport error", resp, err)
			}
			if next.calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", next.calls, tc.wantCalls)
			}
		})
	}
}

func TestNetworkErrorNotRetriedWhenContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	next := &errTransport{err: io.ErrUnexpectedEOF}
	tr := NewRetryTransport(next, RetryOptions{Sleep: (&sleepRecorder{}).sleep})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://jira.invalid/", nil)
	cancel()
	if _, err := tr.RoundTrip(req); err == nil || next.calls != 1 {
		t.Errorf("err=%v calls=%d, want one call and an error", err, next.calls)
	}
}

func TestConnectionRefusedRealSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tr, rec := newTestTransport(RetryOptions{MaxAttempts: 2})
	resp, err := get(t, tr, "http://"+addr+"/")
	if resp != nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got (%v, %v), want ECONNREFUSED", resp, err)
	}
	if len(rec.got()) != 1 {
		t.Errorf("sleeps = %v, want one retry", rec.got())
	}
}

func TestLogsOneLinePerRetryWithoutQuery(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	srv := newScriptServer(t, step{503, nil, ""}, step{429, hdr("Retry-After", "2"), ""}, step{200, nil, ""})
	tr, _ := newTestTransport(RetryOptions{Logger: logger, Name: "gitlab"})
	resp, err := get(t, tr, srv.URL+"/api/v4/projects?private_token=s3cret&page=2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2:\n%s", len(lines), out)
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "page=2") {
		t.Errorf("log leaks the query string:\n%s", out)
	}
	for _, want := range []string{"level=WARN", "system=gitlab", "method=GET", "url=" + srv.URL + "/api/v4/projects ", "status=503", "status=429", "wait=2s", "attempt=2"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestSleepContext(t *testing.T) {
	if err := sleepContext(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleepContext = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext on cancelled ctx = %v", err)
	}
}

// bodyReader is a next transport that reads and closes each request body
// itself (as any RoundTripper must), answering 503 first and 200 after.
type bodyReader struct {
	bodies []string
}

func (b *bodyReader) RoundTrip(req *http.Request) (*http.Response, error) {
	var got []byte
	if req.Body != nil {
		got, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	b.bodies = append(b.bodies, string(got))
	status := http.StatusServiceUnavailable
	if len(b.bodies) > 1 {
		status = http.StatusOK
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func TestFreshBodyPerAttemptWithAnyTransport(t *testing.T) {
	next := &bodyReader{}
	tr := NewRetryTransport(next, RetryOptions{Sleep: (&sleepRecorder{}).sleep})
	req, _ := http.NewRequest(http.MethodPut, "http://jira.invalid/x", bytes.NewReader([]byte("payload")))
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("RoundTrip = %v, %v", resp, err)
	}
	if !slices.Equal(next.bodies, []string{"payload", "payload"}) {
		t.Errorf("bodies = %q", next.bodies)
	}
}

func TestObserveSeesEveryAttemptAndOnWaitEveryWait(t *testing.T) {
	srv := newScriptServer(t, step{503, nil, "down"}, step{429, http.Header{"Retry-After": {"3"}}, "slow down"}, step{200, nil, "ok"})
	var statuses []int
	var waits []time.Duration
	var limited []bool
	tr, _ := newTestTransport(RetryOptions{
		Observe: func(_ *http.Request, status int, err error) { statuses = append(statuses, status) },
		OnWait:  func(d time.Duration, rl bool) { waits = append(waits, d); limited = append(limited, rl) },
	})
	resp, err := get(t, tr, srv.URL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	if want := []int{503, 429, 200}; !slices.Equal(statuses, want) {
		t.Errorf("observed %v, want %v", statuses, want)
	}
	if len(waits) != 2 || waits[1] != 3*time.Second || limited[0] || !limited[1] {
		t.Errorf("waits %v rate-limited %v", waits, limited)
	}
}

func TestPacingSpreadsTheLastOfTheBudgetAndWaitsForReset(t *testing.T) {
	reset := testNow.Add(100 * time.Second)
	hdr := func(remaining int) http.Header {
		return http.Header{"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {fmt.Sprint(remaining)},
			"X-Ratelimit-Reset": {fmt.Sprint(reset.Unix())}}
	}
	srv := newScriptServer(t, step{200, hdr(4000), "a"}, step{200, hdr(10), "b"}, step{200, hdr(9), "c"}, step{200, hdr(0), "d"}, step{200, hdr(4999), "e"})
	tr, rec := newTestTransport(RetryOptions{Pace: true})
	for i := 0; i < 5; i++ {
		resp, err := get(t, tr, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := rec.got()
	// (The clock stands still.) 1st: budget unknown; 2nd: 4000 left, above
	// the reserve; 3rd: 10 left → takes the current slot, the next one is
	// 100s/10 later; 4th: waits for that slot; 5th: none left → waits until
	// the reset (+1s).
	want := []time.Duration{10 * time.Second, 101 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("pacing waits %v, want %v", got, want)
	}
	// Without Pace nothing waits.
	srv2 := newScriptServer(t, step{200, hdr(0), "a"}, step{200, hdr(0), "b"})
	tr2, rec2 := newTestTransport(RetryOptions{})
	for i := 0; i < 2; i++ {
		resp, _ := get(t, tr2, srv2.URL)
		resp.Body.Close()
	}
	if len(rec2.got()) != 0 {
		t.Errorf("unpaced transport waited %v", rec2.got())
	}
}

func TestBackfillYieldsTheRestOfTheBudget(t *testing.T) {
	reset := testNow.Add(600 * time.Second)
	hdr := func(remaining int) http.Header {
		return http.Header{"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {fmt.Sprint(remaining)},
			"X-Ratelimit-Reset": {fmt.Sprint(reset.Unix())}}
	}
	// 1,600 left of 5,000: a backfill with a 0.7 share has spent its 3,500
	// (1,500 must stay for fresh work) once fewer than 1,500 are left.
	srv := newScriptServer(t, step{200, hdr(1600), "a"}, step{200, hdr(1499), "b"}, step{200, hdr(1498), "c"}, step{200, hdr(1497), "d"})
	tr, rec := newTestTransport(RetryOptions{Pace: true, BackfillShare: 0.7})
	do := func(ctx context.Context) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	bf := WithBackfill(context.Background())
	do(bf) // budget unknown
	do(bf) // 1,600 left: still within the share
	if got := rec.got(); len(got) != 0 {
		t.Fatalf("backfill waited %v within its share", got)
	}
	do(context.Background()) // 1,499 left: fresh work goes at once
	if got := rec.got(); len(got) != 0 {
		t.Fatalf("fresh work waited %v", got)
	}
	do(bf) // 1,498 left: the backfill waits for the reset
	if got, want := rec.got(), []time.Duration{601 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("backfill waits %v, want %v", got, want)
	}
	if IsBackfill(context.Background()) || !IsBackfill(bf) {
		t.Error("IsBackfill does not tell the marked context")
	}
}
