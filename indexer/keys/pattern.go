package keys

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidPattern is wrapped by every error NewMatcher returns for a project
// pattern it cannot use.
var ErrInvalidPattern = errors.New("invalid Jira project key pattern")

// project is a compiled project-key pattern.
type project struct {
	// whole matches a string that is exactly one project key.
	whole *regexp.Regexp
	// afterBoundary matches one non-alphanumeric rune followed by a project
	// key that ends the string. Its leftmost match gives the leftmost key
	// start that is preceded by a boundary.
	afterBoundary *regexp.Regexp
	// alpha holds every rune the pattern can match anywhere; a project key
	// is a run of these runes.
	alpha alphabet
}

// compileProject validates pattern and compiles the regexps the scanner
// needs. The pattern is embedded into larger expressions, so it must stand on
// its own: no anchors or other zero-width assertions (the matcher applies the
// key boundaries itself), no match of the empty string, and no way to match
// '-', which separates the project key from the issue number and is what the
// scanner anchors candidates on.
func compileProject(pattern string) (project, error) {
	// Parse the pattern alone first: once wrapped, an unbalanced pattern
	// such as "A)|(B" could still compile and mean something else.
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return project{}, fmt.Errorf("%w %q: %w", ErrInvalidPattern, pattern, err)
	}
	var alpha alphabet
	if err := inspect(tree, &alpha); err != nil {
		return project{}, fmt.Errorf("%w %q: %w", ErrInvalidPattern, pattern, err)
	}
	if alpha.contains('-') {
		return project{}, fmt.Errorf("%w %q: it can match '-', which separates the project key from the issue number", ErrInvalidPattern, pattern)
	}
	whole, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return project{}, fmt.Errorf("%w %q: %w", ErrInvalidPattern, pattern, err)
	}
	if whole.MatchString("") {
		return project{}, fmt.Errorf("%w %q: it matches the empty string", ErrInvalidPattern, pattern)
	}
	after, err := regexp.Compile(`[^\p{L}\p{Nd}](?:` + pattern + `)$`)
	if err != nil {
		return project{}, fmt.Errorf("%w %q: %w", ErrInvalidPattern, pattern, err)
	}
	return project{whole: whole, afterBoundary: after, alpha: alpha}, nil
}

// errAssertion is why a pattern with ^, $, \A, \z, \b or \B is refused.
var errAssertion = errors.New(`anchors and word-boundary assertions (^ $ \A \z \b \B) are not allowed: the matcher bounds keys itself`)

// inspect walks a parsed pattern, refusing zero-width assertions and "any
// character", and adds every rune the pattern can match to alpha.
func inspect(re *syntax.Regexp, alpha *alphabet) error {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return errAssertion
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return errors.New("'.' can match '-', which separates the project key from the issue number")
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			alpha.add(r, r)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					alpha.add(f, f)
				}
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			alpha.add(re.Rune[i], re.Rune[i+1])
		}
	}
	for _, sub := range re.Sub {
		if err := inspect(sub, alpha); err != nil {
			return err
		}
	}
	return nil
}

// alphabet is a set of runes: a bitmap for ASCII, ranges beyond.
type alphabet struct {
	ascii [2]uint64
	wide  []rune // inclusive lo, hi pairs
}

func (a *alphabet) add(lo, hi rune) {
	for ; lo <= hi && lo < utf8.RuneSelf; lo++ {
		a.ascii[lo>>6] |= 1 << (lo & 63)
	}
	if lo <= hi {
		a.wide = append(a.wide, lo, hi)
	}
}

func (a *alphabet) contains(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0 && a.ascii[r>>6]&(1<<(r&63)) != 0
	}
	for i := 0; i+1 < len(a.wide); i += 2 {
		if a.wide[i] <= r && r <= a.wide[i+1] {
			return true
		}
	}
	return false
}

// suffixStart returns the start of the longest suffix of s made only of runes
// in the alphabet. Runes are decoded as the regexp package decodes them, an
// invalid byte being U+FFFD.
func (a *alphabet) suffixStart(s string) int {
	i := len(s)
	for i > 0 {
		if c := s[i-1]; c < utf8.RuneSelf {
			if a.ascii[c>>6]&(1<<(c&63)) == 0 {
				break
			}
			i--
			continue
		}
		r, w := utf8.DecodeLastRuneInString(s[:i])
		if !a.contains(r) {
			break
		}
		i -= w
	}
	return i
}
