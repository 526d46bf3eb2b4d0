package fakeserver

import (
	"strings"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// ResolveRef resolves ref as git does, in this order: a branch of
// branches, a tag of tags (both name → SHA), a full commit SHA of h, or a
// unique abbreviation of one: at least minAbbrev and fewer than 40 hex
// digits, in any case. It reports false for anything else, an ambiguous
// abbreviation included.
func ResolveRef(h *corpus.History, branches, tags map[string]string, ref string, minAbbrev int) (string, bool) {
	if sha, ok := branches[ref]; ok {
		return sha, true
	}
	if sha, ok := tags[ref]; ok {
		return sha, true
	}
	if _, ok := h.Commit(ref); ok {
		return ref, true
	}
	abbrev := strings.ToLower(ref)
	if len(abbrev) < minAbbrev || len(abbrev) >= 40 || strings.Trim(abbrev, "0123456789abcdef") != "" {
		return "", false
	}
	found := ""
	for cm := range h.All() {
		if strings.HasPrefix(cm.SHA, abbrev) {
			if found != "" {
				return "", false
			}
			found = cm.SHA
		}
	}
	return found, found != ""
}
