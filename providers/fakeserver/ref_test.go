package fakeserver_test

import (
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

func TestResolveRef(t *testing.T) {
	h, shas := chain(40) // 40 commits: some share their first hex digit
	branches := map[string]string{"main": shas[39], "dup": shas[1]}
	tags := map[string]string{"v1": shas[10], "dup": shas[2]}
	// unique is the shortest prefix (4 digits at least) of shas[5] no
	// other commit has.
	unique := shas[5][:4]
	for n := 4; ; n++ {
		unique = shas[5][:n]
		clash := false
		for i, s := range shas {
			clash = clash || (i != 5 && strings.HasPrefix(s, unique))
		}
		if !clash {
			break
		}
	}
	ambiguous := ""
	seen := make(map[byte]bool)
	for _, s := range shas {
		if seen[s[0]] {
			ambiguous = s[:1]
			break
		}
		seen[s[0]] = true
	}

	tests := []struct {
		ref       string
		minAbbrev int
		want      string
		ok        bool
	}{
		{"main", 7, shas[39], true},
		{"v1", 7, shas[10], true},
		{"dup", 7, shas[1], true}, // a branch wins over a tag
		{shas[20], 7, shas[20], true},
		{unique, 4, shas[5], true},
		{strings.ToUpper(unique), 4, shas[5], true},
		{unique, len(unique) + 1, "", false}, // too short
		{ambiguous, 1, "", false},
		{"zzzzzzz", 4, "", false},
		{shas[20] + "0", 4, "", false},
		{"nope", 4, "", false},
	}
	for _, tt := range tests {
		got, ok := fakeserver.ResolveRef(h, branches, tags, tt.ref, tt.minAbbrev)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ResolveRef(%q, %d) = %q, %v; want %q, %v", tt.ref, tt.minAbbrev, got, ok, tt.want, tt.ok)
		}
	}
}
