package indexer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
)

func TestClassify(t *testing.T) {
	// A real refused connection and a real DNS failure, as the HTTP client
	// reports them.
	ts := httptest.NewServer(http.NotFoundHandler())
	addr := ts.URL
	ts.Close()
	_, refused := http.Get(addr)
	_, dns := net.DefaultResolver.LookupHost(context.Background(), "no-such-host.invalid")
	for _, c := range []struct {
		err  error
		want FailureKind
	}{
		{fmt.Errorf("list branches: %w", &providers.APIError{Provider: "gh", Status: 401, Err: providers.StatusError(401, "Bad credentials")}), FailureTokenRejected},
		{&JiraError{Err: &jiraclient.Error{Method: "GET", Path: "/rest/api/2/project", Status: 401}}, FailureTokenRejected},
		{&jiraclient.Error{Status: 403}, FailureForbidden},
		{providers.StatusError(429, ""), FailureRateLimited},
		{providers.StatusError(404, ""), FailureNotFound},
		{&jiraclient.Error{Status: 502}, FailureServer},
		{&providers.APIError{Status: 500, Err: providers.StatusError(500, "")}, FailureServer},
		{fmt.Errorf("x: %w", refused), FailureUnreachable},
		{fmt.Errorf("x: %w", dns), FailureUnreachable},
		{&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}, FailureUnreachable},
		{fmt.Errorf("pass: %w", context.Canceled), FailureInterrupted},
		{errors.New("something else"), FailureOther},
	} {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	if systemOf(&JiraError{Err: errors.New("x")}, "gh") != JiraSystem || systemOf(providers.StatusError(401, ""), "gh") != "gh" {
		t.Error("systemOf blames the wrong system")
	}
}
