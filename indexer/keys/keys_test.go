package keys

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
)

func mustMatcher(t testing.TB, pattern string, branchFold bool) *Matcher {
	t.Helper()
	m, err := NewMatcher(pattern, branchFold)
	if err != nil {
		t.Fatalf("NewMatcher(%q): %v", pattern, err)
	}
	return m
}

func check(t *testing.T, fn, in string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s(%q) = %q, want %q", fn, in, got, want)
	}
}

func TestProse(t *testing.T) {
	m := mustMatcher(t, "", false)
	for _, tc := range []struct {
		in   string
		want []string
	}{
		// Empty and key-less text.
		{"", nil},
		{"no dash here", nil},
		{"PROJ-", nil},
		{"-1", nil},
		{"PROJ--1", nil},
		{"2024-07-18 and 3.5-1", nil},

		// Delimiters that bound a key.
		{"PROJ-1", []string{"PROJ-1"}},
		{"[PROJ-1] fix", []string{"PROJ-1"}},
		{"(PROJ-1)", []string{"PROJ-1"}},
		{"PROJ-1: fix", []string{"PROJ-1"}},
		{"PROJ-1, and more", []string{"PROJ-1"}},
		{"Fixes PROJ-1.", []string{"PROJ-1"}},
		{"PROJ-1_fix", []string{"PROJ-1"}}, // '_' is not alphanumeric
		{`"PROJ-1"`, []string{"PROJ-1"}},
		{"'PROJ-1's", []string{"PROJ-1"}},
		{"#PROJ-1 @PROJ-2", []string{"PROJ-1", "PROJ-2"}},
		{"«PROJ-1»", []string{"PROJ-1"}},
		{"→PROJ-1", []string{"PROJ-1"}},
		{"🎉PROJ-1🎉", []string{"PROJ-1"}},
		{"\xffPROJ-1\xfe", []string{"PROJ-1"}}, // invalid UTF-8 is a boundary
		{"PROJ-1-", []string{"PROJ-1"}},
		{"PROJ-1.2", []string{"PROJ-1"}},
		{"PROJ-1²", []string{"PROJ-1"}}, // '²' is a number but not a decimal digit

		// Not keys.
		{"xPROJ-1", nil},
		{"PROJ-1x", nil},
		{"PROJ-01", nil},
		{"PROJ-0", nil},
		{"proj-1", nil},
		{"Proj-1", nil},
		{"P-1", nil}, // the default project key has two characters at least
		{"éPROJ-1", nil},
		{"PROJ-1é", nil},
		{"ΩPROJ-1", nil},
		{"PROJ-1٣", nil}, // ARABIC-INDIC DIGIT THREE is a decimal digit
		{"1PROJ-1", nil},
		{"ZOOKEEPER-123ZOOKEEPER-124", nil},

		// Issue number length: up to 10 digits.
		{"PROJ-1234567890", []string{"PROJ-1234567890"}},
		{"PROJ-12345678901", nil},
		{"PROJ-12345678901 PROJ-2", []string{"PROJ-2"}},

		// A rejected candidate does not hide a later key.
		{"PROJ-1x PROJ-2", []string{"PROJ-2"}},
		{"xPROJ-1 PROJ-2", []string{"PROJ-2"}},
		{"A-PROJ-1", []string{"PROJ-1"}},
		{"FOO-BAR-1", []string{"BAR-1"}},
		{"ABC-1-DEF-2", []string{"ABC-1", "DEF-2"}},
		{"PROJ-1-2", []string{"PROJ-1"}}, // "-2" has no project key
		{"1_PROJ-1", []string{"PROJ-1"}},
		{"aBC_DEF-1", []string{"DEF-1"}}, // BC_DEF starts after 'a'; DEF after '_'

		// The leftmost valid start wins, as with Jira's look-behind regexp.
		{"A_PROJ-1", []string{"A_PROJ-1"}},
		{"_PROJ-1", []string{"PROJ-1"}},
		{"ABC_DEF-1", []string{"ABC_DEF-1"}},
		{"A1-1", []string{"A1-1"}},

		// Syntactic keys the caller drops unless Jira has such a project.
		{"Use UTF-8", []string{"UTF-8"}},
		{"`SHA-256`", []string{"SHA-256"}},
		{"ISO-8601 dates", []string{"ISO-8601"}},
		{"fixes CVE-2024-1234", []string{"CVE-2024"}},
		{`charset "ISO-8859-1"`, []string{"ISO-8859"}},

		// Links.
		{"[PROJ-1](https://jira.example.com/browse/PROJ-1)", []string{"PROJ-1"}},
		{"see [the bug](https://issues.apache.org/jira/browse/ZOOKEEPER-123)", []string{"ZOOKEEPER-123"}},
		{"https://issues.apache.org/jira/browse/ZOOKEEPER-123", []string{"ZOOKEEPER-123"}},
		{"https://jira.example.com/browse/PROJ-1?focusedCommentId=2#comment-2", []string{"PROJ-1"}},
		{"<https://jira.example.com/browse/PROJ-7>", []string{"PROJ-7"}},

		// Start, end, lines.
		{"PROJ-1 at start", []string{"PROJ-1"}},
		{"at end PROJ-1", []string{"PROJ-1"}},
		{"PROJ-1\nPROJ-2", []string{"PROJ-1", "PROJ-2"}},
		{"subject\r\n\r\nPROJ-3\r\n", []string{"PROJ-3"}},
		{"\tPROJ-1\t", []string{"PROJ-1"}},

		// Several keys and duplicates: unique, in order of first appearance.
		{"PROJ-2 PROJ-1 PROJ-2 PROJ-1 OTHER-9", []string{"PROJ-2", "PROJ-1", "OTHER-9"}},
		{"PROJ-1,PROJ-2;PROJ-3/PROJ-4", []string{"PROJ-1", "PROJ-2", "PROJ-3", "PROJ-4"}},
	} {
		check(t, "Prose", tc.in, m.Prose(tc.in), tc.want)
		// Prose and Branch agree when branches are case-sensitive.
		check(t, "Branch", tc.in, m.Branch(tc.in), tc.want)
	}
}

func TestBranch(t *testing.T) {
	fold := mustMatcher(t, "", true)
	exact := mustMatcher(t, "", false)
	for _, tc := range []struct {
		name      string
		fold      []string // branchCaseInsensitive
		sensitive []string
	}{
		{"main", nil, nil},
		{"feature/PROJ-12-login", []string{"PROJ-12"}, []string{"PROJ-12"}},
		{"feature/proj-12-login", []string{"PROJ-12"}, nil},
		{"proj-12", []string{"PROJ-12"}, nil},
		{"PROJ-7_fix", []string{"PROJ-7"}, []string{"PROJ-7"}},
		{"bugfix/Proj-3", []string{"PROJ-3"}, nil},
		{"fix-proj-12", []string{"PROJ-12"}, nil},
		{"users/jdoe/proj-12/proj-13", []string{"PROJ-12", "PROJ-13"}, nil},
		{"proj-12-and-proj-12", []string{"PROJ-12"}, nil},
		{"xproj-12", []string{"XPROJ-12"}, nil}, // case-insensitively, "xproj" is a project key
		{"proj-012", nil, nil},
		{"proj-12x", nil, nil},
		{"renovate/major-react-monorepo", nil, nil},
		// Syntactic keys in version-like names: dropped later unless Jira
		// has a project RELEASE, PLUGIN, ...
		{"release-3.5", []string{"RELEASE-3"}, nil},
		{"release-3.6.0-0", []string{"RELEASE-3"}, nil},
		{"dependabot/maven/org.apache.maven.plugins-maven-surefire-plugin-3.0.0", []string{"PLUGIN-3"}, nil},
		{"dependabot/github_actions/actions/checkout-4", []string{"CHECKOUT-4"}, nil},
		// Real ZooKeeper refs.
		// Case-insensitively, "post_ZOOKEEPER" is itself a project key, and
		// the leftmost start wins: the caller drops POST_ZOOKEEPER-45.
		{"post_ZOOKEEPER-45_snapshot", []string{"POST_ZOOKEEPER-45"}, []string{"ZOOKEEPER-45"}},
		{"zookeeper-", nil, nil},
		{"infrastructure-ruleset-bot/default-branch-protection", nil, nil},
		// Non-ASCII letters: upper-cased only within their case-folding class.
		{"straße/proj-1", []string{"PROJ-1"}, nil},
		{"proj-1ß", nil, nil},
		{"ıproj-1", nil, nil}, // dotless i is a letter and does not fold to I
	} {
		check(t, "Branch(fold)", tc.name, fold.Branch(tc.name), tc.fold)
		check(t, "Branch(exact)", tc.name, exact.Branch(tc.name), tc.sensitive)
	}
	// Case folding is for branches only.
	check(t, "Prose(fold)", "feature/proj-12", fold.Prose("feature/proj-12"), nil)
}

func TestCustomPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		fold    bool
		branch  bool // call Branch instead of Prose
		in      string
		want    []string
	}{
		{`[A-Z]{2,10}`, false, false, "ABCDEFGHIJ-1", []string{"ABCDEFGHIJ-1"}},
		{`[A-Z]{2,10}`, false, false, "ABCDEFGHIJK-1", nil},
		{`[A-Z]{2,10}`, false, false, "A_B-1", nil},
		{`[A-Z]{2,10}`, false, false, "X_AB-1 PR2-3", []string{"AB-1"}},
		{`[A-Z]{2,10}`, true, true, "feature/ab-1", []string{"AB-1"}},
		// Jira's own default value of jira.projectkey.pattern, capture group
		// and all.
		{`([A-Z][A-Z]+)`, false, false, "PROJ-1 P1-2", []string{"PROJ-1"}},
		// Alternatives: the key is the whole run before '-'.
		{`ABC|ABCD`, false, false, "ABCD-1 ABC-2", []string{"ABCD-1", "ABC-2"}},
		// A case-insensitive pattern: keys are still normalized.
		{`(?i)[a-z]{2,}`, false, false, "see proj-1 and Proj-2", []string{"PROJ-1", "PROJ-2"}},
		// Non-ASCII project keys.
		{`[A-ZÄÖÜ][A-ZÄÖÜ0-9]+`, false, false, "ÄRGER-1 ärger-2", []string{"ÄRGER-1"}},
		{`[A-ZÄÖÜ][A-ZÄÖÜ0-9]+`, true, true, "feature/ärger-1", []string{"ÄRGER-1"}},
	} {
		m := mustMatcher(t, tc.pattern, tc.fold)
		if tc.branch {
			check(t, "Branch", tc.in, m.Branch(tc.in), tc.want)
		} else {
			check(t, "Prose", tc.in, m.Prose(tc.in), tc.want)
		}
	}
}

func TestNewMatcherPattern(t *testing.T) {
	for _, p := range []string{"", DefaultProjectPattern, `[A-Z]{2,10}`, `([A-Z][A-Z]+)`, `(?i)[a-z]+`, `[A-Z][A-Z0-9]*_?[A-Z0-9]+`} {
		m, err := NewMatcher(p, false)
		if err != nil {
			t.Errorf("NewMatcher(%q): %v", p, err)
			continue
		}
		want := p
		if p == "" {
			want = DefaultProjectPattern
		}
		if got := m.ProjectPattern(); got != want {
			t.Errorf("NewMatcher(%q).ProjectPattern() = %q, want %q", p, got, want)
		}
	}
	for _, p := range []string{
		`^[A-Z]+`, `[A-Z]+$`, `(?m)^[A-Z]+`, `\A[A-Z]+`, `[A-Z]+\z`, `\b[A-Z]+`, `[A-Z]+\B`, // assertions
		`[A-Z]*`, `(?:)`, `A|`, `x?`, // match ""
		`[A-Z`, `A)|(B`, `(?P<x>`, // do not compile
		`[A-Z-]+`, `.+`, `(?s).+`, `[^a-z]+`, `[A-Z]+-[A-Z]+`, // match '-'
	} {
		m, err := NewMatcher(p, false)
		if !errors.Is(err, ErrInvalidPattern) {
			t.Errorf("NewMatcher(%q) = %v, %v; want an ErrInvalidPattern", p, m, err)
		}
	}
}

func TestProjectOf(t *testing.T) {
	for in, want := range map[string]string{
		"PROJ-12":   "PROJ",
		"A_B-1":     "A_B",
		"CVE-2024":  "CVE",
		"no dash":   "",
		"":          "",
		"-1":        "",
		"ÄRGER-123": "ÄRGER",
	} {
		if got := ProjectOf(in); got != want {
			t.Errorf("ProjectOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUpperLetter(t *testing.T) {
	for in, want := range map[rune]rune{
		'a': 'A', 'Z': 'Z', '1': '1', '_': '_', '-': '-',
		'é': 'É', 'ä': 'Ä', 'ſ': 'S', 'ǆ': 'Ǆ',
		'ß':      'ß',      // no single-rune upper case
		'ı':      'ı',      // dotless i upper-cases to I but does not fold to it
		'ⓐ':      'ⓐ',      // a symbol, not a letter
		'\u0345': '\u0345', // a combining mark whose upper case is a letter: would move a boundary
		'²':      '²',
	} {
		if got := upperLetter(in); got != want {
			t.Errorf("upperLetter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestManyKeysStayUnique(t *testing.T) {
	m := mustMatcher(t, "", false)
	var text []byte
	var want []string
	for i := 1; i <= 3*uniqLinearMax; i++ {
		k := "PROJ-" + strconv.Itoa(i)
		want = append(want, k)
		text = append(text, k+" "+k+" PROJ-1 "...)
	}
	check(t, "Prose", "<many keys>", m.Prose(string(text)), want)
}

func TestNoAllocationWithoutKey(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool, which package regexp uses, drop items")
	}
	m := mustMatcher(t, "", true)
	for _, text := range []string{
		"plain text without any dash",
		"ZOOKEEPER-0123 2024-07-18 git-svn-id: https://svn.apache.org/repos/asf/zookeeper/trunk@1448007 13f79535-47bb-0310-9956-ffa450edef68",
		"xPROJ-1 PROJ-1x abc-12",
	} {
		if n := testing.AllocsPerRun(100, func() { _ = m.Prose(text) }); n != 0 {
			t.Errorf("Prose(%q) allocates %v times", text, n)
		}
	}
	for _, name := range []string{"main", "feature/login-page", "release-x.3", "proj-012"} {
		if n := testing.AllocsPerRun(100, func() { _ = m.Branch(name) }); n != 0 {
			t.Errorf("Branch(%q) allocates %v times", name, n)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	m := mustMatcher(t, "", true)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				check(t, "Prose", "x", m.Prose("PROJ-1 and ABC-2"), []string{"PROJ-1", "ABC-2"})
				check(t, "Branch", "x", m.Branch("feature/proj-3"), []string{"PROJ-3"})
			}
		})
	}
	wg.Wait()
}
