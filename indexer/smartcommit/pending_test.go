package smartcommit_test

import (
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
)

func TestHasCommands(t *testing.T) {
	m := matcher(t)
	for msg, want := range map[string]bool{
		"ABC-1 #comment fixed": true,
		"ABC-1 #time 1h":       true,
		"ABC-1 #time 1x (invalid, but recorded as failed)": true,
		"ABC-1 fix the #123 regression":                    false,
		"no key #comment here":                             false,
		"":                                                 false,
		"Revert \"ABC-1 #comment x\"\n\nThis reverts commit 53a78e36f996.": false,
		"ABC-1 #comment x\n\n(cherry picked from commit 53a78e36f996)":     false,
	} {
		if got := smartcommit.HasCommands(msg, m); got != want {
			t.Errorf("HasCommands(%q) = %v, want %v", msg, got, want)
		}
	}
}
