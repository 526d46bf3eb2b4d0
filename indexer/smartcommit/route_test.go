package smartcommit_test

import (
	"strings"
	"testing"
)

// TestRouteSkipsCommandsOfOtherProjects: commands on issues the repo's
// routes do not allow are skipped, never sent to Jira.
func TestRouteSkipsCommandsOfOtherProjects(t *testing.T) {
	e := newEnv(t, nil)
	x := e.executor(t, nil, nil, nil)
	c := commit(sha1, "ABC-1 #comment allowed\n\nDEF-2 #comment from a private repo")
	c.Allow = func(issue string) bool { return strings.HasPrefix(issue, "ABC-") }
	res := handle(t, x, c)
	if len(res) != 2 || res[0].Status != "done" || res[1].Status != "skipped" || res[1].Error != "dropped by a route" {
		t.Fatalf("results %+v", res)
	}
	if cs := e.srv.Comments("DEF-2"); len(cs) != 0 {
		t.Errorf("DEF-2 got comments: %+v", cs)
	}
	if cs := e.srv.Comments("ABC-1"); len(cs) != 1 {
		t.Errorf("ABC-1 comments: %+v", cs)
	}
}
