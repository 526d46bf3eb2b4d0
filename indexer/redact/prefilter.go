package redact

// prefilter decides in one pass over a text which rules can match it: a
// rule runs only if one of its keywords occurs (ASCII case-insensitively),
// as in gitleaks. Most commit messages contain no keyword at all, and then
// no regular expression runs and nothing is allocated.
//
// Every keyword is at least two ASCII bytes long, so the scan tests each
// position's lower-cased byte pair against a bit set of keyword prefixes
// and compares whole keywords only where a prefix occurs.
type prefilter struct {
	pairs    [1 << 16 / 64]uint64 // bit set of the keywords' first two bytes
	byPair   map[uint16][]int     // first two bytes → indexes into keywords
	keywords []string             // distinct, lower case
	rulesOf  [][]int              // keyword index → indexes of the rules it enables
	always   []int                // rules without (usable) keywords: run on every text
	nrules   int
}

func newPrefilter(rules []*rule) *prefilter {
	p := &prefilter{byPair: map[uint16][]int{}, nrules: len(rules)}
	index := map[string]int{}
	for ri, r := range rules {
		usable := len(r.keywords) > 0
		for _, k := range r.keywords {
			if len(k) < 2 || !isASCII(k) {
				usable = false
			}
		}
		if !usable {
			p.always = append(p.always, ri)
			continue
		}
		for _, k := range r.keywords {
			ki, ok := index[k]
			if !ok {
				ki = len(p.keywords)
				index[k] = ki
				p.keywords = append(p.keywords, k)
				p.rulesOf = append(p.rulesOf, nil)
				pair := uint16(k[0])<<8 | uint16(k[1])
				p.pairs[pair/64] |= 1 << (pair % 64)
				p.byPair[pair] = append(p.byPair[pair], ki)
			}
			p.rulesOf[ki] = append(p.rulesOf[ki], ri)
		}
	}
	return p
}

// active returns, indexed by rule, whether the rule must run on text; nil
// means no rule must.
func (p *prefilter) active(text string) []bool {
	var on []bool
	if len(p.always) > 0 {
		on = make([]bool, p.nrules)
		for _, ri := range p.always {
			on[ri] = true
		}
	}
	for i := 0; i+1 < len(text); i++ {
		pair := uint16(lower(text[i]))<<8 | uint16(lower(text[i+1]))
		if p.pairs[pair/64]&(1<<(pair%64)) == 0 {
			continue
		}
		for _, ki := range p.byPair[pair] {
			if !hasPrefixFold(text[i:], p.keywords[ki]) {
				continue
			}
			if on == nil {
				on = make([]bool, p.nrules)
			}
			for _, ri := range p.rulesOf[ki] {
				on[ri] = true
			}
		}
	}
	return on
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case in s.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
