package state

import (
	"testing"
	"time"
)

func TestEnvCursor(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 4, 10, m, 0, 0, time.UTC) }
	var c EnvCursor
	if got := c.Before(1, at(0)); got != "" {
		t.Errorf("empty cursor: %q", got)
	}
	c = c.With(EnvDeployment{ID: 2, SHA: "b", At: at(2)}, 3)
	c = c.With(EnvDeployment{ID: 1, SHA: "a", At: at(1)}, 3) // listed late: kept in order
	c = c.With(EnvDeployment{ID: 2, SHA: "b", At: at(2)}, 3) // again: no duplicate
	c = c.With(EnvDeployment{ID: 4, SHA: "d", At: at(4)}, 3)
	if len(c.Successes) != 3 || c.Successes[0].ID != 1 || c.Successes[2].ID != 4 {
		t.Fatalf("successes = %+v", c.Successes)
	}
	for _, tc := range []struct {
		id   int64
		at   time.Time
		want string
	}{{3, at(3), "b"}, {2, at(2), "a"}, {5, at(9), "d"}, {1, at(1), ""}, {9, at(2), "b"}} {
		if got := c.Before(tc.id, tc.at); got != tc.want {
			t.Errorf("Before(%d, %v) = %q, want %q", tc.id, tc.at, got, tc.want)
		}
	}
	c = c.With(EnvDeployment{ID: 5, SHA: "e", At: at(5)}, 3)
	if len(c.Successes) != 3 || c.Successes[0].ID != 2 {
		t.Errorf("not capped to the newest 3: %+v", c.Successes)
	}
}

func TestCIEntryNewer(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	e := CIEntry{SourceID: 10, CreatedAt: at}
	for _, tc := range []struct {
		id   int64
		at   time.Time
		want bool
	}{{10, at, true}, {11, at.Add(time.Second), true}, {9, at.Add(-time.Second), false}, {11, at, true}, {9, at, false}, {12, at.Add(-time.Hour), false}} {
		if got := e.Newer(tc.id, tc.at); got != tc.want {
			t.Errorf("Newer(%d, %v) = %v, want %v", tc.id, tc.at, got, tc.want)
		}
	}
}
