// Package smartcommit carries out Jira smart commits: commands in commit
// messages that comment on an issue, log work on it or move it through its
// workflow, such as
//
//	ABC-1 #time 2h 30m #comment fixed the login race #resolve-issue
//
// Parse is the pure grammar; the Executor runs the commands against Jira
// exactly once per (commit, command), keeping a ledger of what it did.
//
// The grammar is Atlassian's, as documented for Bitbucket Data Center and
// Jira ("Use Smart Commits",
// https://confluence.atlassian.com/bitbucketserver0810/use-smart-commits-1236442967.html,
// and "Process issues with smart commits",
// https://support.atlassian.com/jira-software-cloud/docs/process-issues-with-smart-commits/):
//
//	<ignored text> ISSUE_KEY <ignored text> #<COMMAND> <optional COMMAND_ARGUMENTS>
//
// with the commands #comment <text>, #time <value>w <value>d <value>h
// <value>m <text> (values may be decimal) and #<transition name> <text>, a
// transition named by its name with hyphens for spaces, or by its first
// words alone when that is unambiguous. Several keys before the commands
// apply each command to each key ("ABC-1 ABC-2 #resolve"); several commands
// may follow one key ("ABC-1 #time 2h #comment fixed #close"); a command
// never spans lines.
package smartcommit

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
)

// CommandKind is what a command does.
type CommandKind string

// Command kinds.
const (
	KindComment    CommandKind = "comment"
	KindTime       CommandKind = "time"
	KindTransition CommandKind = "transition"
)

// Parse errors, set on Command.Err. A command with an error is recorded as
// failed and never sent to Jira.
var (
	ErrInvalidDuration = errors.New("invalid #time duration")
	ErrEmptyComment    = errors.New("#comment without text")
)

// maxWork bounds a #time value: more than a year of round-the-clock work is
// a typo, and the bound keeps the arithmetic far from overflow.
const maxWork = 365 * 24 * time.Hour

// Command is one smart-commit command for one issue.
type Command struct {
	Issue string
	Kind  CommandKind
	// Text is the comment: of #comment, of the worklog for #time, or added
	// with the transition. Trimmed; may be empty except for #comment.
	Text string
	// Duration is #time's value, rounded to whole minutes; DurationText is
	// how it was written ("1w 2d 4h 30m").
	Duration     time.Duration
	DurationText string
	// Transition is the transition as written, without '#', e.g.
	// "resolve-issue".
	Transition string
	// Index is the command's ordinal among everything Parse returned for
	// the message: a pure function of the message, so that it can be part
	// of a stable command id.
	Index int
	// Err, when set, says why the command cannot be executed (wrapping
	// ErrInvalidDuration or ErrEmptyComment).
	Err error
}

// String renders the command as it could have been written.
func (c Command) String() string {
	var s string
	switch c.Kind {
	case KindComment:
		s = "#comment"
	case KindTime:
		s = "#time " + c.DurationText
	default:
		s = "#" + c.Transition
	}
	if c.Text != "" {
		s += " " + c.Text
	}
	return c.Issue + " " + strings.TrimSpace(s)
}

// Units are the lengths of a working day and week that #time's d and w
// mean; Jira's time tracking settings (Data Center defaults: 8 hours a
// day, 5 days a week). Zero fields mean the defaults.
type Units struct {
	HoursPerDay float64
	DaysPerWeek float64
}

// DefaultUnits are Jira Data Center's default time tracking settings.
var DefaultUnits = Units{HoursPerDay: 8, DaysPerWeek: 5}

// withDefaults fills zero or invalid fields.
func (u Units) withDefaults() Units {
	if !(u.HoursPerDay > 0 && u.HoursPerDay <= 24) {
		u.HoursPerDay = DefaultUnits.HoursPerDay
	}
	if !(u.DaysPerWeek > 0 && u.DaysPerWeek <= 7) {
		u.DaysPerWeek = DefaultUnits.DaysPerWeek
	}
	return u
}

// Parse returns the smart-commit commands of a commit message, in order,
// with DefaultUnits. See ParseUnits.
func Parse(message string, m *keys.Matcher) []Command {
	return ParseUnits(message, m, Units{})
}

// HasCommands reports whether the Executor would find commands to record
// in the message of a commit with at most one parent: the message has
// smart-commit commands and is not one git wrote for a revert or a
// cherry-pick (-x). Whether the issues exist is not checked.
func HasCommands(message string, m *keys.Matcher) bool {
	return !generatedCopy(message) && len(Parse(message, m)) > 0
}

// ParseUnits returns the smart-commit commands of a commit message, in
// order. Each line is read on its own:
//
//   - A command is '#' at the start of the line or after white space,
//     then a name: a letter followed by letters, digits, '-' or '_', ended
//     by white space, the end of the line or sentence punctuation (which
//     is dropped), so "#123", "a#b" and "# heading" are not commands.
//     "comment" and "time" (any case) are commands; every other name is a
//     transition.
//   - The commands of a line apply to a group of issue keys: at first the
//     first run of adjacent keys (separated only by white space and
//     punctuation) before the first command, so that in "ABC-1 fix the
//     regression of ABC-2 #resolve" only ABC-1 is resolved; and, from a
//     run of keys that directly precedes a later command, that run
//     ("ABC-1 #close ABC-2 #reopen"). Commands before any key are ignored.
//   - A command's text runs to the next command, or to the key run that
//     starts the next group, or to the end of the line.
//
// Keys are found with m.Prose, so they follow jiralinkd's key rule.
func ParseUnits(message string, m *keys.Matcher, u Units) []Command {
	if !strings.Contains(message, "#") {
		return nil
	}
	u = u.withDefaults()
	var out []Command
	for line := range strings.SplitSeq(message, "\n") {
		line = strings.TrimSuffix(line, "\r")
		cmds := findCommands(line)
		if len(cmds) == 0 {
			continue
		}
		group := firstKeyRun(line[:cmds[0].start], m)
		for i, hc := range cmds {
			argEnd := len(line)
			var next []string
			if i+1 < len(cmds) {
				argEnd = cmds[i+1].start
				var cut int
				if next, cut = trailingKeyRun(line[hc.end:argEnd], m); len(next) > 0 {
					argEnd = hc.end + cut
				}
			}
			arg := strings.TrimSpace(line[hc.end:argEnd])
			for _, key := range group {
				c := build(key, hc.name, arg, u)
				c.Index = len(out)
				out = append(out, c)
			}
			if len(next) > 0 {
				group = next
			}
		}
	}
	return out
}

// hashCommand is a "#name" in a line; end is past the name and any
// punctuation after it.
type hashCommand struct {
	start, end int
	name       string
}

// findCommands returns the commands of one line.
func findCommands(line string) []hashCommand {
	var out []hashCommand
	for i := 0; i < len(line); i++ {
		if line[i] != '#' {
			continue
		}
		if i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(line[:i]); !unicode.IsSpace(r) {
				continue
			}
		}
		j := i + 1
		for j < len(line) {
			r, w := utf8.DecodeRuneInString(line[j:])
			if j == i+1 && !unicode.IsLetter(r) || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
				break
			}
			j += w
		}
		if j == i+1 {
			continue
		}
		name := line[i+1 : j]
		end := j
		for end < len(line) && strings.IndexByte(".,;:!?", line[end]) >= 0 {
			end++
		}
		if end < len(line) {
			if r, _ := utf8.DecodeRuneInString(line[end:]); !unicode.IsSpace(r) {
				continue // "#c++", "#tag/x": not a command
			}
		}
		out = append(out, hashCommand{start: i, end: end, name: name})
		i = end - 1
	}
	return out
}

// word is a run of non-space text and its offset.
type word struct {
	off  int
	text string
}

func words(s string) []word {
	var out []word
	start := -1
	for i, r := range s {
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = append(out, word{start, s[start:i]})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, word{start, s[start:]})
	}
	return out
}

// keyWord returns the keys of w if w consists of issue keys and
// punctuation only, like "ABC-1", "(ABC-1)," or "ABC-1/ABC-2".
func keyWord(w string, m *keys.Matcher) []string {
	ks := m.Prose(w)
	if len(ks) == 0 {
		return nil
	}
	// Longest first, so that removing ABC-1 cannot break ABC-12.
	sorted := append([]string(nil), ks...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	rest := strings.ToUpper(w)
	for _, k := range sorted {
		rest = strings.ReplaceAll(rest, strings.ToUpper(k), " ")
	}
	if strings.IndexFunc(rest, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
		return nil
	}
	return ks
}

// firstKeyRun returns the keys of the first run of adjacent key words.
func firstKeyRun(s string, m *keys.Matcher) []string {
	var run []string
	for _, w := range words(s) {
		ks := keyWord(w.text, m)
		if ks == nil {
			if run != nil {
				break
			}
			continue
		}
		run = appendUnique(run, ks...)
	}
	return run
}

// trailingKeyRun returns the keys of the run of key words that ends s, and
// the offset where the run starts.
func trailingKeyRun(s string, m *keys.Matcher) ([]string, int) {
	ws := words(s)
	i := len(ws)
	for i > 0 && keyWord(ws[i-1].text, m) != nil {
		i--
	}
	if i == len(ws) {
		return nil, 0
	}
	var run []string
	for _, w := range ws[i:] {
		run = appendUnique(run, keyWord(w.text, m)...)
	}
	return run, ws[i].off
}

func appendUnique(list []string, ks ...string) []string {
	for _, k := range ks {
		dup := false
		for _, have := range list {
			if have == k {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, k)
		}
	}
	return list
}

// build makes the command name means for key.
func build(key, name, arg string, u Units) Command {
	c := Command{Issue: key}
	switch strings.ToLower(name) {
	case "comment":
		c.Kind, c.Text = KindComment, arg
		if arg == "" {
			c.Err = ErrEmptyComment
		}
	case "time":
		c.Kind = KindTime
		c.Duration, c.DurationText, c.Text, c.Err = parseDuration(arg, u)
	default:
		c.Kind, c.Transition, c.Text = KindTransition, name, arg
	}
	return c
}

// parseDuration reads the duration tokens at the start of arg ("1w 2d 4h
// 30m", "1.5h", "2h30m") and returns the total rounded to whole minutes,
// the tokens as written and the text after them.
func parseDuration(arg string, u Units) (d time.Duration, text, rest string, err error) {
	ws := words(arg)
	var minutes float64
	n := 0
	for _, w := range ws {
		v, ok := durationToken(w.text, u)
		if !ok {
			break
		}
		minutes += v
		n++
	}
	if n == 0 {
		first := ""
		if len(ws) > 0 {
			first = ws[0].text
		}
		return 0, first, arg, fmt.Errorf("%w %q: want values like 1w 2d 4h 30m", ErrInvalidDuration, first)
	}
	last := ws[n-1]
	text = arg[:last.off+len(last.text)]
	rest = strings.TrimSpace(arg[last.off+len(last.text):])
	switch minutes = math.Round(minutes); {
	case minutes < 1:
		return 0, text, rest, fmt.Errorf("%w %q: less than a minute", ErrInvalidDuration, text)
	case minutes > maxWork.Minutes():
		return 0, text, rest, fmt.Errorf("%w %q: more than %s", ErrInvalidDuration, text, maxWork)
	}
	return time.Duration(minutes) * time.Minute, text, rest, nil
}

// durationToken returns the minutes of one token made of <number><unit>
// parts ("2d", "1.5h", "2h30m"), or false if it is not one.
func durationToken(tok string, u Units) (float64, bool) {
	if tok == "" || len(tok) > 32 {
		return 0, false
	}
	var total float64
	for tok != "" {
		i := 0
		for i < len(tok) && (tok[i] >= '0' && tok[i] <= '9' || tok[i] == '.') {
			i++
		}
		if i == 0 || i == len(tok) || tok[0] == '.' || tok[i-1] == '.' {
			return 0, false
		}
		v, err := strconv.ParseFloat(tok[:i], 64)
		if err != nil {
			return 0, false
		}
		var per float64
		switch tok[i] {
		case 'w', 'W':
			per = u.DaysPerWeek * u.HoursPerDay * 60
		case 'd', 'D':
			per = u.HoursPerDay * 60
		case 'h', 'H':
			per = 60
		case 'm', 'M':
			per = 1
		default:
			return 0, false
		}
		total += v * per
		tok = tok[i+1:]
	}
	return total, true
}
