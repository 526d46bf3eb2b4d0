// Package keys finds Jira issue keys (PROJ-123) in Git metadata text: commit
// messages, pull request titles and descriptions, branch and tag names.
//
// The rule is Jira Data Center's. A key is a project key matching the project
// pattern (by default an upper-case letter followed by one or more upper-case
// letters, digits or underscores), a '-', and an issue number without a
// leading zero, and the whole key is bounded on both sides by the start or end
// of the text or by a rune that is neither a Unicode letter nor a decimal
// digit. So "[PROJ-1]", "PROJ-1:", "PROJ-1_fix" and ".../browse/PROJ-1" hold
// PROJ-1, while "xPROJ-1", "PROJ-1x", "PROJ-01" and "éPROJ-1" hold no key.
//
// The matcher is purely syntactic: "UTF-8", "SHA-256" or "CVE-2024" are keys
// to it. Dropping keys of projects that do not exist in Jira is the caller's
// job.
package keys

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultProjectPattern is the project key rule of Jira Data Center: an
// upper-case letter followed by one or more upper-case letters, digits or
// underscores. jiralinkd's jira.key_pattern setting replaces it for instances
// whose administrators changed Jira's jira.projectkey.pattern.
const DefaultProjectPattern = `[A-Z][A-Z0-9_]+`

// maxNumberDigits caps the issue number: a longer run of digits is not a key.
// It keeps numbers within int64 for callers that parse them.
const maxNumberDigits = 10

// Matcher finds issue keys. It is immutable and safe for concurrent use.
type Matcher struct {
	pattern    string
	project    project
	branchFold bool
}

// NewMatcher returns a Matcher for project keys matching projectPattern, a Go
// regular expression for the project part alone ("" means
// DefaultProjectPattern). Instances that changed jira.projectkey.pattern pass
// their own, e.g. "[A-Z]{2,10}". The pattern is used as a whole (as if
// wrapped in a non-capturing group) and must not contain anchors or word
// boundaries (^ $ \A \z \b \B), must not match the empty string and must not
// match '-'; otherwise the error wraps ErrInvalidPattern.
//
// When branchCaseInsensitive is set, Branch matches keys case-insensitively,
// since lower-case keys are the norm in branch names.
func NewMatcher(projectPattern string, branchCaseInsensitive bool) (*Matcher, error) {
	if projectPattern == "" {
		projectPattern = DefaultProjectPattern
	}
	p, err := compileProject(projectPattern)
	if err != nil {
		return nil, err
	}
	return &Matcher{pattern: projectPattern, project: p, branchFold: branchCaseInsensitive}, nil
}

// ProjectPattern returns the project pattern in use.
func (m *Matcher) ProjectPattern() string { return m.pattern }

// Prose returns the issue keys in free text such as commit messages and pull
// request titles or descriptions: unique, in order of first appearance, with
// the project part upper-cased. It returns nil, without allocating, when the
// text holds no key.
func (m *Matcher) Prose(text string) []string {
	return m.scan(text)
}

// Branch returns the issue keys in a branch or tag name, like Prose. If the
// Matcher was made with branchCaseInsensitive, letters match regardless of
// case, so "feature/proj-12-login" yields PROJ-12. Names like "release-3.5"
// then yield syntactic keys (RELEASE-3) that the caller drops unless Jira has
// such a project. Case-insensitively, more text can belong to a project key:
// "post_ZOOKEEPER-45" yields POST_ZOOKEEPER-45, as the key with the leftmost
// start wins, where a case-sensitive match yields ZOOKEEPER-45.
func (m *Matcher) Branch(name string) []string {
	if !m.branchFold {
		return m.scan(name)
	}
	if !mayHoldKey(name) {
		return nil // spare the upper-cased copy
	}
	return m.scan(strings.Map(upperLetter, name))
}

// ProjectOf returns the project part of a key: "PROJ-12" gives "PROJ". It
// returns "" for a string without '-'.
func ProjectOf(key string) string {
	i := strings.LastIndexByte(key, '-')
	if i < 0 {
		return ""
	}
	return key[:i]
}

// scan finds the keys in text. It mirrors what a backtracking regexp with
// look-behind, such as Jira's, finds scanning left to right: the key with the
// leftmost valid start, then the next one after its end. Since a project key
// cannot contain '-', every key ends in "-<number>" at some '-' of the text, so
// scan visits each '-', checks the number after it cheaply, and only then
// looks for the leftmost valid project key ending at that '-'.
func (m *Matcher) scan(text string) []string {
	var keys uniq
	lo := 0 // no key starts before lo: the end of the previous key, or just past a '-'
	for off := 0; ; {
		d := strings.IndexByte(text[off:], '-')
		if d < 0 {
			return keys.list
		}
		dash := off + d
		off = dash + 1
		if end, ok := number(text, dash+1); ok {
			if start, ok := m.projectStart(text, lo, dash); ok {
				keys.add(m.normalize(text[start:dash], text[start:end]))
				lo, off = end, end
				continue
			}
		}
		lo = dash + 1
	}
}

// projectStart returns the leftmost start s >= lo such that text[s:dash] is a
// project key and s is at a boundary.
func (m *Matcher) projectStart(text string, lo, dash int) (int, bool) {
	// Skip to the run of runes the pattern can match at all: the key lies
	// within it. Usually this leaves just the candidate project key.
	lo += m.project.alpha.suffixStart(text[lo:dash])
	if lo == dash {
		return 0, false
	}
	region := text[lo:dash]
	if boundaryBefore(text, lo) && m.project.whole.MatchString(region) {
		return lo, true
	}
	loc := m.project.afterBoundary.FindStringIndex(region)
	if loc == nil {
		return 0, false
	}
	_, w := utf8.DecodeRuneInString(region[loc[0]:])
	return lo + loc[0] + w, true
}

// mayHoldKey reports whether some '-' in text is followed by an issue number,
// which every key needs.
func mayHoldKey(text string) bool {
	for off := 0; ; {
		d := strings.IndexByte(text[off:], '-')
		if d < 0 {
			return false
		}
		off += d + 1
		if _, ok := number(text, off); ok {
			return true
		}
	}
}

// normalize returns key with its project part upper-cased. It does not
// allocate when the project is already upper-case.
func (m *Matcher) normalize(project, key string) string {
	up := strings.Map(upperLetter, project)
	if up == project {
		return key
	}
	return up + key[len(project):]
}

// number reports whether text[i:] starts with an issue number followed by a
// boundary, and where the number ends.
func number(text string, i int) (end int, ok bool) {
	if i >= len(text) || text[i] < '1' || text[i] > '9' {
		return 0, false
	}
	end = i + 1
	for end < len(text) && '0' <= text[end] && text[end] <= '9' {
		end++
	}
	if end-i > maxNumberDigits || !boundaryAt(text, end) {
		return 0, false
	}
	return end, true
}

// boundaryAt reports whether a key may end at i: i is the end of text or the
// rune at i is neither a letter nor a digit.
func boundaryAt(text string, i int) bool {
	if i >= len(text) {
		return true
	}
	if c := text[i]; c < utf8.RuneSelf {
		return !isASCIIAlnum(c)
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return !isAlnum(r)
}

// boundaryBefore reports whether a key may start at i.
func boundaryBefore(text string, i int) bool {
	if i == 0 {
		return true
	}
	if c := text[i-1]; c < utf8.RuneSelf {
		return !isASCIIAlnum(c)
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return !isAlnum(r)
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isAlnum is Java's Character.isLetterOrDigit: a letter or a decimal digit.
// An invalid byte decodes to U+FFFD, which is neither.
func isAlnum(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// upperLetter maps a letter to its upper case when the two are the same
// letter under Unicode simple case folding, the equivalence case-insensitive
// matching uses; everything else maps to itself. Restricting to letters keeps
// the boundary classification of every rune, and the folding check keeps
// "ı" (dotless i) from becoming "I", which it does not fold to.
func upperLetter(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}
	if !unicode.IsLetter(r) {
		return r
	}
	u := unicode.ToUpper(r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f == u {
			return u
		}
	}
	return r
}

// uniq is a list of distinct keys in order of first appearance. Lists are
// short, so a linear search does until a text holds unusually many keys.
type uniq struct {
	list []string
	seen map[string]struct{} // set once list is long
}

const uniqLinearMax = 32

func (u *uniq) add(key string) {
	if u.seen == nil {
		for _, k := range u.list {
			if k == key {
				return
			}
		}
		u.list = append(u.list, key)
		if len(u.list) == uniqLinearMax {
			u.seen = make(map[string]struct{}, 2*uniqLinearMax)
			for _, k := range u.list {
				u.seen[k] = struct{}{}
			}
		}
		return
	}
	if _, ok := u.seen[key]; ok {
		return
	}
	u.seen[key] = struct{}{}
	u.list = append(u.list, key)
}
