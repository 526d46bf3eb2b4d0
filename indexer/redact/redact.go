// Package redact removes credentials from text before jiralinkd writes it
// to Jira: link titles and summaries carry commit messages and pull-request
// titles, and people paste tokens, keys and passwords into those.
//
// The rules are a curated subset of gitleaks' default rule set (cloud
// keys; GitHub, GitLab, Slack and Atlassian tokens; private key blocks;
// JWTs; credentials on curl command lines; self-identifying tokens of
// common developer services), copied verbatim from a cited release, plus
// four of jiralinkd's own: passwords in assignments and URLs, AWS secret
// access keys, and high-entropy secret, API key and token assignments
// (what gitleaks' left-out generic-api-key would find). They are
// applied with gitleaks' semantics: keyword pre-filter, secret group,
// entropy threshold, rule and global allowlists. rules/README.md has the
// provenance and the reasons for the selection.
package redact

import (
	"slices"
	"strings"
)

// Finding is one redacted secret: the rule that found it and its byte
// offsets in the input text. It never holds the secret itself, so it can
// be logged.
type Finding struct {
	Rule       string
	Start, End int
}

// Redactor finds and replaces secrets. It is safe for concurrent use.
type Redactor struct {
	rules  []*rule
	global []allowlist
	pre    *prefilter
}

// New compiles the embedded rule sets.
func New() (*Redactor, error) {
	rules, global, err := loadRules()
	if err != nil {
		return nil, err
	}
	return &Redactor{rules: rules, global: global, pre: newPrefilter(rules)}, nil
}

// Rules returns the ids of every rule, in evaluation order (for example to
// initialise a metric's label values).
func (r *Redactor) Rules() []string {
	ids := make([]string, len(r.rules))
	for i, rl := range r.rules {
		ids[i] = rl.id
	}
	return ids
}

// Marker is the text that replaces a secret found by rule.
func Marker(rule string) string { return "[REDACTED:" + rule + "]" }

// Redact returns text with every secret replaced by Marker(rule), and the
// findings ordered by position (offsets refer to text, not to the result).
// Only the secret is replaced (for password=hunter2, hunter2), never the
// text around it; secrets found by several rules, or overlapping, are
// replaced once, under the rule of the first. Text without findings is
// returned unchanged, and then nothing is allocated when no rule's keyword
// occurs in it.
func (r *Redactor) Redact(text string) (string, []Finding) {
	on := r.pre.active(text)
	if on == nil {
		return text, nil
	}
	var found []Finding
	for i, rl := range r.rules {
		if on[i] {
			found = r.apply(rl, text, found)
		}
	}
	if len(found) == 0 {
		return text, nil
	}
	found = merge(found)
	var b strings.Builder
	last := 0
	for _, f := range found {
		b.WriteString(text[last:f.Start])
		b.WriteString(Marker(f.Rule))
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), found
}

// apply runs one rule over text, appending its findings to found.
func (r *Redactor) apply(rl *rule, text string, found []Finding) []Finding {
	for _, m := range rl.re.FindAllStringSubmatchIndex(text, -1) {
		// gitleaks trims newlines off the match before using it.
		ms, me := m[0], m[1]
		for ms < me && text[ms] == '\n' {
			ms++
		}
		for me > ms && text[me-1] == '\n' {
			me--
		}
		ss, se := secretSpan(rl, m, ms, me)
		if ss >= se {
			continue
		}
		secret := text[ss:se]
		if rl.entropy != 0 && shannonEntropy(secret) <= rl.entropy {
			continue
		}
		match, line := text[ms:me], lineOf(text, ms, me)
		if allowed(r.global, secret, match, line) || allowed(rl.allowlists, secret, match, line) {
			continue
		}
		found = append(found, Finding{Rule: rl.id, Start: ss, End: se})
	}
	return found
}

// secretSpan locates the secret within a match: the secretGroup if set,
// else the first capture group that matched something, else the whole
// (trimmed) match.
func secretSpan(rl *rule, m []int, ms, me int) (int, int) {
	if rl.re.NumSubexp() == 0 {
		return ms, me
	}
	if g := rl.secretGroup; g > 0 {
		return m[2*g], m[2*g+1] // -1, -1 when the group did not take part
	}
	for g := 1; g <= rl.re.NumSubexp(); g++ {
		if s, e := m[2*g], m[2*g+1]; s >= 0 && e > s {
			return s, e
		}
	}
	return ms, me
}

// lineOf returns the full line(s) holding text[start:end].
func lineOf(text string, start, end int) string {
	ls := strings.LastIndexByte(text[:start], '\n') + 1
	le := strings.IndexByte(text[end:], '\n')
	if le < 0 {
		return text[ls:]
	}
	return text[ls : end+le]
}

func allowed(lists []allowlist, secret, match, line string) bool {
	for i := range lists {
		if lists[i].allows(secret, match, line) {
			return true
		}
	}
	return false
}

// merge orders findings by position and folds overlapping ones into one,
// under the rule of the earliest (the longest, for equal starts).
func merge(fs []Finding) []Finding {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	out := fs[:1]
	for _, f := range fs[1:] {
		last := &out[len(out)-1]
		if f.Start < last.End {
			last.End = max(last.End, f.End)
			continue
		}
		out = append(out, f)
	}
	return out
}
