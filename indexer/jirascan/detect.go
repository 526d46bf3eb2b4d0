package jirascan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jiralinkd/jiralinkd/indexer/redact"
)

// Hit is one secret found in a text: its rule and byte offsets. The
// secret itself stays in the text the caller holds.
type Hit = redact.Finding

// detector finds secrets with the redaction rules (gitleaks' rule set and
// jiralinkd's own, package redact) and identifies them without keeping
// them: a salted fingerprint and a masked preview.
type detector struct {
	rules *redact.Redactor
	salt  []byte
}

// find returns the secrets in text, ordered by position.
func (d *detector) find(text string) []Hit {
	_, hits := d.rules.Redact(text)
	return hits
}

// fingerprint is the salted hash (HMAC-SHA-256, 128 bits in hex) of a
// secret: equal secrets have equal fingerprints within one installation,
// and the secret cannot be recovered or confirmed without the salt.
func (d *detector) fingerprint(secret string) string {
	m := hmac.New(sha256.New, d.salt)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Mask returns a preview of a secret that does not reveal it: at most a
// quarter of it, and never more than four characters, at each end
// ("AKIA…MPLE" for a 20-character AWS key id), control characters
// shown as "?". Secrets under eight characters show only their length.
func Mask(secret string) string {
	rs := []rune(secret)
	keep := min(4, len(rs)/4)
	if len(rs) < 8 {
		keep = 0
	}
	if keep == 0 {
		return "…(" + strconv.Itoa(len(rs)) + " chars)"
	}
	clean := func(rs []rune) string {
		var b strings.Builder
		for _, r := range rs {
			if r < 0x20 || r == 0x7f || r == utf8.RuneError {
				r = '?'
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	return clean(rs[:keep]) + "…" + clean(rs[len(rs)-keep:])
}

// maskedText replaces the secrets of text whose fingerprint is in fps with
// "[secret removed: <rule>]" and reports how many it replaced.
func (d *detector) maskedText(text string, fps map[string]bool) (string, int) {
	hits := d.find(text)
	var b strings.Builder
	last, n := 0, 0
	for _, h := range hits {
		if !fps[d.fingerprint(text[h.Start:h.End])] {
			continue
		}
		b.WriteString(text[last:h.Start])
		b.WriteString(RemovedMarker(h.Rule))
		last = h.End
		n++
	}
	if n == 0 {
		return text, 0
	}
	b.WriteString(text[last:])
	return b.String(), n
}

// RemovedMarker is what the mask action puts in place of a secret.
func RemovedMarker(rule string) string { return "[secret removed: " + rule + "]" }

// binaryLooking reports whether text looks like binary data pasted as
// text (a dump, an encoded attachment): invalid UTF-8 or more than one
// control character (tabs and line breaks aside) in a hundred. Such text
// is not scanned: random bytes match the entropy rules.
func binaryLooking(text string) bool {
	if !utf8.ValidString(text) {
		return true
	}
	ctrl := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			ctrl++
		}
	}
	return ctrl*100 > len(text)
}

// truncate cuts text to at most n bytes at a line break (or a rune
// boundary when the first n bytes hold none), so that a secret is not cut
// in half more often than necessary.
func truncate(text string, n int) string {
	if len(text) <= n {
		return text
	}
	cut := text[:n]
	if i := strings.LastIndexByte(cut, '\n'); i > n/2 {
		return cut[:i]
	}
	for len(cut) > 0 && !utf8.RuneStart(text[len(cut)]) {
		cut = cut[:len(cut)-1]
	}
	return cut
}
