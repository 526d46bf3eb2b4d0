package config

import (
	"slices"
	"testing"
	"time"
)

func TestRotateBefore(t *testing.T) {
	files := map[string]string{"/run/gl-token": "glpat-x"}
	cfg := mustParse(t, validJira+`providers:
  - name: gl
    type: gitlab
    token_file: /run/gl-token
    groups: [g]
    rotate_before: 7d
  - name: gl2
    type: gitlab
    token_file: /run/gl-token
    groups: [g]
`, testEnv, files)
	if got := cfg.Providers[0].RotateBefore; got != 7*24*time.Hour {
		t.Errorf("rotate_before 7d = %v", got)
	}
	if cfg.Providers[1].RotateBefore != 0 {
		t.Errorf("rotation is on by default")
	}
	for _, tc := range []struct{ name, provider, want string }{
		{"without token_file", "    type: gitlab\n    token_env: GH_TOKEN\n    groups: [g]\n    rotate_before: 7d\n",
			"providers[0].rotate_before: needs token_file: the rotated token is written to it before use (token_env and token cannot be updated)"},
		{"github", "    type: github\n    token_file: /run/gl-token\n    orgs: [o]\n    rotate_before: 7d\n",
			"providers[0].rotate_before: only GitLab tokens can rotate themselves: remove rotate_before"},
		{"bad duration", "    type: gitlab\n    token_file: /run/gl-token\n    groups: [g]\n    rotate_before: a week\n",
			`providers[0].rotate_before: invalid duration "a week": use days such as "7d" or a duration such as "36h"`},
		{"not positive", "    type: gitlab\n    token_file: /run/gl-token\n    groups: [g]\n    rotate_before: 0d\n",
			`providers[0].rotate_before: must be positive, got "0d"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, validJira+"providers:\n  - name: p\n"+tc.provider, testEnv, files)
			if !slices.Contains(got, tc.want) {
				t.Errorf("problems = %q\nwant %q", got, tc.want)
			}
		})
	}
}
