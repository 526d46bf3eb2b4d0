package keys

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// oracle is a deliberately naive statement of the rule: try every start
// position left to right, as a backtracking regexp with look-behind does,
// and after a key continue at its end. It is quadratic, so only short inputs
// are checked against it.
type oracle struct {
	key    *regexp.Regexp // a key at the start, then a boundary or the end
	before *regexp.Regexp // the text ends with a boundary rune
}

func newOracle(pattern string) oracle {
	return oracle{
		key:    regexp.MustCompile(`^((?:` + pattern + `)-[1-9][0-9]{0,9})(?:[^\p{L}\p{Nd}]|$)`),
		before: regexp.MustCompile(`[^\p{L}\p{Nd}]$`),
	}
}

func (o oracle) keys(text string) []string {
	var out []string
	for s := 0; s < len(text); {
		if s == 0 || o.before.MatchString(text[:s]) {
			if loc := o.key.FindStringSubmatchIndex(text[s:]); loc != nil {
				if k := text[s : s+loc[3]]; !slices.Contains(out, k) {
					out = append(out, k)
				}
				s += loc[3]
				continue
			}
		}
		_, w := utf8.DecodeRuneInString(text[s:])
		s += w
	}
	return out
}

const oracleMaxLen = 512

func FuzzProse(f *testing.F) {
	for _, s := range []string{
		"", "PROJ-1", "[PROJ-1](https://x/browse/PROJ-1)", "PROJ-1x PROJ-2", "ABC-1-DEF-2",
		"aBC_DEF-1", "1_PROJ-1", "éPROJ-1", "PROJ-1٣", "\xffPROJ-1\xfe", "PROJ-12345678901 PROJ-2",
		"ZOOKEEPER-123ZOOKEEPER-124", "CVE-2024-1234", "feature/proj-12-login", "post_ZOOKEEPER-45_snapshot",
		"ſ_proj-1 ıproj-2 ǆz-3", "Closes #2415 from Kirti2704/ZOOKEEPER-5064",
		"git-svn-id: https://svn.apache.org/repos/asf/zookeeper/trunk@1448007 13f79535-47bb-0310-9956-ffa450edef68",
	} {
		f.Add(s)
	}
	type subject struct {
		pattern string
		m       *Matcher
		oracle  oracle
		valid   *regexp.Regexp
	}
	var subjects []subject
	for _, p := range []string{DefaultProjectPattern, `[A-Z]{2,10}`, `[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)?`} {
		subjects = append(subjects, subject{
			pattern: p,
			m:       mustMatcher(f, p, true),
			oracle:  newOracle(p),
			valid:   regexp.MustCompile(`^(?:` + p + `)-[1-9][0-9]{0,9}$`),
		})
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, s := range subjects {
			prose := s.m.Prose(text)
			for _, k := range prose {
				if !s.valid.MatchString(k) {
					t.Errorf("%s: Prose(%q) returned %q, not a key", s.pattern, text, k)
				}
				if !strings.Contains(text, k) {
					t.Errorf("%s: Prose(%q) returned %q, not in the text", s.pattern, text, k)
				}
			}
			assertUnique(t, "Prose", text, prose)
			if len(text) <= oracleMaxLen {
				if want := s.oracle.keys(text); !slices.Equal(prose, want) {
					t.Errorf("%s: Prose(%q) = %q, the naive rule gives %q", s.pattern, text, prose, want)
				}
			}

			branch := s.m.Branch(text)
			for _, k := range branch {
				if !s.valid.MatchString(k) {
					t.Errorf("%s: Branch(%q) returned %q, not a key", s.pattern, text, k)
				}
				if !regexp.MustCompile(`(?i)` + regexp.QuoteMeta(k)).MatchString(text) {
					t.Errorf("%s: Branch(%q) returned %q, not in the text in any case", s.pattern, text, k)
				}
			}
			assertUnique(t, "Branch", text, branch)
			if isASCII(text) {
				if want := s.m.Prose(strings.ToUpper(text)); !slices.Equal(branch, want) {
					t.Errorf("%s: Branch(%q) = %q, but Prose of the upper-cased text gives %q", s.pattern, text, branch, want)
				}
			}
		}
	})
}

func assertUnique(t *testing.T, fn, text string, keys []string) {
	t.Helper()
	for i, k := range keys {
		if slices.Contains(keys[:i], k) {
			t.Errorf("%s(%q) returned %q twice: %q", fn, text, k, keys)
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// TestAgainstOracle compares Prose with the naive rule on random strings
// over an alphabet of the runes that matter, which random fuzzing input
// rarely combines into near-keys.
func TestAgainstOracle(t *testing.T) {
	pieces := []string{"A", "B", "Z", "a", "_", "-", "-", "0", "1", "9", " ", ".", "/", "é", "É", "٣", "²", "\xff", "PR", "-1", "-12"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range []string{DefaultProjectPattern, `[A-Z]{2,10}`, `[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)?`} {
		m := mustMatcher(t, p, false)
		o := newOracle(p)
		for range 5000 {
			var b strings.Builder
			for range rng.IntN(24) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			text := b.String()
			if got, want := m.Prose(text), o.keys(text); !slices.Equal(got, want) {
				t.Errorf("%s: Prose(%q) = %q, the naive rule gives %q", p, text, got, want)
			}
		}
	}
}
