package smartcommit_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
)

func matcher(t testing.TB) *keys.Matcher {
	t.Helper()
	m, err := keys.NewMatcher("", true)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cmd builds an expected command; Index is filled in by position.
type cmd = smartcommit.Command

func comment(issue, text string) cmd {
	return cmd{Issue: issue, Kind: smartcommit.KindComment, Text: text}
}

func work(issue string, d time.Duration, written, text string) cmd {
	return cmd{Issue: issue, Kind: smartcommit.KindTime, Duration: d, DurationText: written, Text: text}
}

func trans(issue, name, text string) cmd {
	return cmd{Issue: issue, Kind: smartcommit.KindTransition, Transition: name, Text: text}
}

func TestParse(t *testing.T) {
	const h = time.Hour
	tests := []struct {
		name, msg string
		want      []cmd
	}{
		// The examples of Atlassian's documentation.
		{"comment", "JRA-34 #comment corrected indent issue", []cmd{comment("JRA-34", "corrected indent issue")}},
		{"time", "JRA-34 #time 1w 2d 4h 30m Total work logged", []cmd{work("JRA-34", 60*h+30*time.Minute, "1w 2d 4h 30m", "Total work logged")}},
		{"transition", "JRA-90 #close Fixed this today", []cmd{trans("JRA-90", "close", "Fixed this today")}},
		{"several commands, one issue", "JRA-123 #time 2d 5h #comment Task completed ahead of schedule #resolve",
			[]cmd{work("JRA-123", 21*h, "2d 5h", ""), comment("JRA-123", "Task completed ahead of schedule"), trans("JRA-123", "resolve", "")}},
		{"one command, several issues", "JRA-123 JRA-234 JRA-345 #resolve",
			[]cmd{trans("JRA-123", "resolve", ""), trans("JRA-234", "resolve", ""), trans("JRA-345", "resolve", "")}},
		{"several commands, several issues", "JRA-123 JRA-234 #resolve #time 2d 5h #comment ahead of schedule",
			[]cmd{
				trans("JRA-123", "resolve", ""), trans("JRA-234", "resolve", ""),
				work("JRA-123", 21*h, "2d 5h", ""), work("JRA-234", 21*h, "2d 5h", ""),
				comment("JRA-123", "ahead of schedule"), comment("JRA-234", "ahead of schedule"),
			}},
		// Real-looking messages.
		{"subject and body lines", "ZOOKEEPER-4512. Fix flaky testSessionExpiry\n\nZOOKEEPER-4512 #time 1.5h bisecting\r\nZOOKEEPER-4490 #resolve-issue fixed by the same change\n\nAuthor: someone",
			[]cmd{work("ZOOKEEPER-4512", 90*time.Minute, "1.5h", "bisecting"), trans("ZOOKEEPER-4490", "resolve-issue", "fixed by the same change")}},
		{"ignored text around the key", "Fix HADOOP-17 NPE in the RPC client #comment reproduced with a 3-node cluster",
			[]cmd{comment("HADOOP-17", "reproduced with a 3-node cluster")}},
		{"only the first run of keys", "ABC-1 fix the regression of ABC-2 #resolve", []cmd{trans("ABC-1", "resolve", "")}},
		{"bracketed and punctuated keys", "[ABC-1][ABC-2], (ABC-3): #start-progress",
			[]cmd{trans("ABC-1", "start-progress", ""), trans("ABC-2", "start-progress", ""), trans("ABC-3", "start-progress", "")}},
		{"a key run before a later command starts a group", "ABC-1 #close ABC-2 ABC-3 #reopen-issue wontfix after all",
			[]cmd{trans("ABC-1", "close", ""), trans("ABC-2", "reopen-issue", "wontfix after all"), trans("ABC-3", "reopen-issue", "wontfix after all")}},
		{"a key inside text stays text", "ABC-1 #comment duplicate of ABC-2, see there", []cmd{comment("ABC-1", "duplicate of ABC-2, see there")}},
		{"text then a key run", "ABC-1 #comment moved to ABC-2 #time 1h", []cmd{comment("ABC-1", "moved to"), work("ABC-2", h, "1h", "")}},
		{"names are case-insensitive", "ABC-1 #COMMENT Shouting #Time 2H", []cmd{comment("ABC-1", "Shouting"), work("ABC-1", 2*h, "2H", "")}},
		{"sentence punctuation after a name", "ABC-1: #resolve. #comment: done", []cmd{trans("ABC-1", "resolve", ""), comment("ABC-1", "done")}},
		{"compact and decimal durations", "ABC-1 #time 2h30m 0.5d fixed it", []cmd{work("ABC-1", 6*h+30*time.Minute, "2h30m 0.5d", "fixed it")}},
		{"text after an unparsable token", "ABC-1 #time 2h 30 minutes of review", []cmd{work("ABC-1", 2*h, "2h", "30 minutes of review")}},
		{"a command per line", "ABC-1 #comment first\nABC-1 #comment second", []cmd{comment("ABC-1", "first"), comment("ABC-1", "second")}},
		{"commands do not span lines", "ABC-1 fix\n#resolve", nil},
		{"no key before the command", "#comment orphan ABC-1", nil},
		{"not commands", "ABC-1 fixes #123, foo#bar, # heading, #c++ and #tag/x", nil},
		{"no hash at all", "ABC-1 plain message", nil},
		{"syntactic keys count", "Use UTF-8 #ifdef guards", []cmd{trans("UTF-8", "ifdef", "guards")}},
	}
	m := matcher(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.want {
				tc.want[i].Index = i
			}
			got := smartcommit.Parse(tc.msg, m)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.msg, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		msg     string
		wantErr error
	}{
		{"ABC-1 #time two hours", smartcommit.ErrInvalidDuration},
		{"ABC-1 #time", smartcommit.ErrInvalidDuration},
		{"ABC-1 #time 2hours", smartcommit.ErrInvalidDuration},
		{"ABC-1 #time 1.5.5h", smartcommit.ErrInvalidDuration},
		{"ABC-1 #time 0m nothing", smartcommit.ErrInvalidDuration},
		{"ABC-1 #time 0.2m", smartcommit.ErrInvalidDuration},
		{"ABC-1 #time 9999w", smartcommit.ErrInvalidDuration},
		{"ABC-1 #time 99999999999999999999999999999h", smartcommit.ErrInvalidDuration},
		{"ABC-1 #comment", smartcommit.ErrEmptyComment},
		{"ABC-1 #comment   #resolve", smartcommit.ErrEmptyComment},
	}
	m := matcher(t)
	for _, tc := range tests {
		got := smartcommit.Parse(tc.msg, m)
		if len(got) == 0 || !errors.Is(got[0].Err, tc.wantErr) || got[0].Duration != 0 || got[0].Issue != "ABC-1" {
			t.Errorf("Parse(%q) = %+v, want first command with %v", tc.msg, got, tc.wantErr)
		}
	}
	// The other commands of the message are unaffected.
	got := smartcommit.Parse("ABC-1 #time soon #comment still here", m)
	if len(got) != 2 || got[0].Err == nil || got[1].Err != nil || got[1].Text != "still here" {
		t.Errorf("got %+v", got)
	}
}

func TestParseUnits(t *testing.T) {
	m := matcher(t)
	tests := []struct {
		units smartcommit.Units
		want  time.Duration
	}{
		{smartcommit.Units{}, 48 * time.Hour},                               // 1w = 5d, 1d = 8h
		{smartcommit.DefaultUnits, 48 * time.Hour},                          // the same
		{smartcommit.Units{HoursPerDay: 6, DaysPerWeek: 4}, 30 * time.Hour}, // 24h + 6h
		{smartcommit.Units{HoursPerDay: 24, DaysPerWeek: 7}, 192 * time.Hour},
	}
	for _, tc := range tests {
		got := smartcommit.ParseUnits("ABC-1 #time 1w 1d", m, tc.units)
		if len(got) != 1 || got[0].Err != nil || got[0].Duration != tc.want {
			t.Errorf("units %+v: got %+v, want %s", tc.units, got, tc.want)
		}
	}
}

func TestCommandString(t *testing.T) {
	m := matcher(t)
	got := smartcommit.Parse("ABC-1 #time 1w 2d fixed #resolve-issue #comment looks good", m)
	want := []string{"ABC-1 #time 1w 2d fixed", "ABC-1 #resolve-issue", "ABC-1 #comment looks good"}
	for i, c := range got {
		if i >= len(want) || c.String() != want[i] {
			t.Errorf("command %d = %q, want %q", i, c.String(), want)
		}
	}
}
