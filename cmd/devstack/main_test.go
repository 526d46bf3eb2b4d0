package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestCLIUsage: --help describes devstack and succeeds; usage errors exit
// 2 before any stack is started.
func TestCLIUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "devstack is jiralinkd's local demo"},
		{[]string{"-h"}, 0, "devstack demo"},
		{[]string{"help"}, 0, "devstack scale"},
		{[]string{"demo", "--help"}, 0, "Flags of demo"},
		{[]string{"scale", "-h"}, 0, "-jiralinkd"},
		{nil, 2, "Usage:"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"demo", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"bench", "--bogus"}, 2, "bogus"},
		{[]string{"help"}, 0, "devstack ha"},
		{[]string{"ha", "extra"}, 2, `unexpected argument "extra"`},
	} {
		var out, errOut bytes.Buffer
		code := cli(context.Background(), tc.args, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tc.args, code, tc.code, tc.want, out.String(), errOut.String())
		}
	}
}
