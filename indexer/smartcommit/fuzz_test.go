package smartcommit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
)

// FuzzParse checks Parse's invariants on any input: no panic, commands
// only for keys the matcher finds in the message, consistent fields.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"JRA-34 #time 1w 2d 4h 30m Total work logged",
		"JRA-123 JRA-234 JRA-345 #resolve #time 2d 5h #comment Task completed ahead of schedule",
		"ABC-1 #close ABC-2 ABC-3 #reopen-issue wontfix\nABC-4: #comment: x\r\n",
		"[ABC-1][ABC-2], (ABC-3): #start-progress #time 2h30m 0.5d",
		"ABC-1 #time 99999999999999999999999999999h #time 1.5.5h #time .5h",
		"ABC-1 fixes #123, foo#bar, # heading, #c++ and #tag/x",
		"ÀBC-1 #ço ABC-1\u00a0#comment\u2003é",
		"ABC-1 #time",
		"#",
	} {
		f.Add(s)
	}
	m := matcher(f)
	f.Fuzz(func(t *testing.T, msg string) {
		cmds := smartcommit.Parse(msg, m)
		present := m.Prose(msg)
		for i, c := range cmds {
			if c.Index != i {
				t.Fatalf("command %d has Index %d", i, c.Index)
			}
			if !slices.Contains(present, c.Issue) {
				t.Fatalf("command for %q, which Prose does not find in %q (%q)", c.Issue, msg, present)
			}
			if strings.ContainsAny(c.Text, "\n") || strings.TrimSpace(c.Text) != c.Text {
				t.Fatalf("text %q not one trimmed line", c.Text)
			}
			switch c.Kind {
			case smartcommit.KindComment:
				if (c.Text == "") != errors.Is(c.Err, smartcommit.ErrEmptyComment) {
					t.Fatalf("comment %q with err %v", c.Text, c.Err)
				}
			case smartcommit.KindTime:
				if c.Err == nil && (c.Duration < time.Minute || c.Duration%time.Minute != 0 || c.Duration > 365*24*time.Hour) {
					t.Fatalf("duration %s from %q", c.Duration, c.DurationText)
				}
				if c.Err != nil && (!errors.Is(c.Err, smartcommit.ErrInvalidDuration) || c.Duration != 0) {
					t.Fatalf("time error %v, duration %s", c.Err, c.Duration)
				}
			case smartcommit.KindTransition:
				if c.Err != nil || c.Transition == "" || !strings.Contains(msg, "#"+c.Transition) {
					t.Fatalf("transition %q (err %v) not in the message", c.Transition, c.Err)
				}
			default:
				t.Fatalf("kind %q", c.Kind)
			}
		}
	})
}
