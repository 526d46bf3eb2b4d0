package redact

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// ruleFS holds the rule sets: the curated subset of gitleaks' default
// rules (a verbatim copy, see rules/README.md) and jiralinkd's own.
//
//go:embed rules/gitleaks.json rules/jiralinkd.json
var ruleFS embed.FS

// ruleSet is the JSON form of a rule file. Field names and meanings are
// gitleaks' (config/gitleaks.toml), restricted to what applies to text
// that has no file path or commit of its own.
type ruleSet struct {
	Source    string        `json:"source"`
	Allowlist allowlistSpec `json:"allowlist"`
	Rules     []ruleSpec    `json:"rules"`
}

type ruleSpec struct {
	ID          string          `json:"id"`
	Description string          `json:"description"`
	Regex       string          `json:"regex"`
	SecretGroup int             `json:"secretGroup"`
	Entropy     float64         `json:"entropy"`
	Keywords    []string        `json:"keywords"`
	Allowlists  []allowlistSpec `json:"allowlists"`
}

type allowlistSpec struct {
	Description string   `json:"description"`
	Condition   string   `json:"condition"`   // "OR" (default) or "AND"
	RegexTarget string   `json:"regexTarget"` // "" (the secret), "match" or "line"
	Regexes     []string `json:"regexes"`
	StopWords   []string `json:"stopwords"`
}

// rule is a compiled rule.
type rule struct {
	id          string
	re          *regexp.Regexp
	secretGroup int
	entropy     float64
	keywords    []string // lower case; empty: the rule always runs
	allowlists  []allowlist
}

// allowlist tells findings that are not secrets (placeholders, examples).
type allowlist struct {
	and       bool
	target    string
	regexes   []*regexp.Regexp
	stopwords []string // lower case
}

// loadRules reads and compiles the embedded rule files. Rule ids must be
// unique: they name metrics and replacement markers.
func loadRules() (rules []*rule, global []allowlist, err error) {
	seen := map[string]bool{}
	for _, name := range [...]string{"rules/gitleaks.json", "rules/jiralinkd.json"} { // in evaluation order
		data, err := ruleFS.ReadFile(name)
		if err != nil {
			return nil, nil, fmt.Errorf("redact: %w", err)
		}
		var set ruleSet
		if err := json.Unmarshal(data, &set); err != nil {
			return nil, nil, fmt.Errorf("redact: %s: %w", name, err)
		}
		if a, ok, err := compileAllowlist(set.Allowlist); err != nil {
			return nil, nil, fmt.Errorf("redact: %s: global allowlist: %w", name, err)
		} else if ok {
			global = append(global, a)
		}
		for _, spec := range set.Rules {
			r, err := compileRule(spec)
			if err != nil {
				return nil, nil, fmt.Errorf("redact: %s: rule %s: %w", name, spec.ID, err)
			}
			if seen[r.id] {
				return nil, nil, fmt.Errorf("redact: %s: duplicate rule id %s", name, r.id)
			}
			seen[r.id] = true
			rules = append(rules, r)
		}
	}
	return rules, global, nil
}

func compileRule(s ruleSpec) (*rule, error) {
	if s.ID == "" || strings.ContainsAny(s.ID, "[]: \t\n") {
		return nil, fmt.Errorf("invalid id %q", s.ID)
	}
	re, err := regexp.Compile(s.Regex)
	if err != nil {
		return nil, err
	}
	if s.SecretGroup < 0 || s.SecretGroup > re.NumSubexp() {
		return nil, fmt.Errorf("secretGroup %d, the regex has %d groups", s.SecretGroup, re.NumSubexp())
	}
	r := &rule{id: s.ID, re: re, secretGroup: s.SecretGroup, entropy: s.Entropy}
	for _, k := range s.Keywords {
		r.keywords = append(r.keywords, strings.ToLower(k))
	}
	for _, as := range s.Allowlists {
		a, ok, err := compileAllowlist(as)
		if err != nil {
			return nil, fmt.Errorf("allowlist: %w", err)
		}
		if ok {
			r.allowlists = append(r.allowlists, a)
		}
	}
	return r, nil
}

func compileAllowlist(s allowlistSpec) (allowlist, bool, error) {
	a := allowlist{target: s.RegexTarget}
	switch s.Condition {
	case "", "OR":
	case "AND":
		a.and = true
	default:
		return a, false, fmt.Errorf("condition %q", s.Condition)
	}
	switch s.RegexTarget {
	case "", "match", "line":
	default:
		return a, false, fmt.Errorf("regexTarget %q", s.RegexTarget)
	}
	for _, p := range s.Regexes {
		re, err := regexp.Compile(p)
		if err != nil {
			return a, false, err
		}
		a.regexes = append(a.regexes, re)
	}
	for _, w := range s.StopWords {
		a.stopwords = append(a.stopwords, strings.ToLower(w))
	}
	return a, len(a.regexes) > 0 || len(a.stopwords) > 0, nil
}

// allows reports whether the allowlist exempts a finding, as gitleaks'
// checkFindingAllowed does: regexes test the target (secret, match or
// line), stopwords are substrings of the lower-cased secret; OR needs one
// criterion, AND all that are set.
func (a *allowlist) allows(secret, match, line string) bool {
	target := secret
	switch a.target {
	case "match":
		target = match
	case "line":
		target = line
	}
	regexOK := false
	for _, re := range a.regexes {
		if re.MatchString(target) {
			regexOK = true
			break
		}
	}
	stopOK := false
	if len(a.stopwords) > 0 {
		lower := strings.ToLower(secret)
		for _, w := range a.stopwords {
			if strings.Contains(lower, w) {
				stopOK = true
				break
			}
		}
	}
	if a.and {
		return (len(a.regexes) == 0 || regexOK) && (len(a.stopwords) == 0 || stopOK)
	}
	return regexOK || stopOK
}

// shannonEntropy is gitleaks' entropy measure, exactly: rune frequencies
// relative to the length in bytes (the same for the ASCII secrets the
// rules match), in bits.
func shannonEntropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	for _, c := range s {
		counts[c]++
	}
	inv := 1 / float64(len(s))
	var e float64
	for _, c := range counts {
		f := float64(c) * inv
		e -= f * math.Log2(f)
	}
	return e
}
