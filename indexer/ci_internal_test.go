package indexer

import (
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

func TestCIWatermark(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 4, 10, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name    string
		prev    time.Time
		created []time.Time
		final   []bool
		want    time.Time
	}{
		{"nothing read", at(5), nil, nil, at(5)},
		{"all final: the newest", at(0), []time.Time{at(1), at(3), at(2)}, []bool{true, true, true}, at(3)},
		{"one running: it", at(0), []time.Time{at(1), at(3), at(2)}, []bool{true, true, false}, at(2)},
		{"two running: the oldest", at(0), []time.Time{at(4), at(1), at(3)}, []bool{false, true, false}, at(3)},
	} {
		if got := ciWatermark(tc.prev, tc.created, tc.final); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSettled(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	rs := &repoSync{ix: &Indexer{opts: Options{Now: func() time.Time { return now }}}}
	for _, tc := range []struct {
		status           providers.CIStatus
		created, updated time.Time
		want             bool
	}{
		{providers.CISuccess, now, now, true},
		{providers.CIRunning, now.Add(-time.Hour), now.Add(-time.Minute), false},
		{providers.CIPending, now.Add(-48 * time.Hour), time.Time{}, true},              // never reported
		{providers.CIPending, now.Add(-48 * time.Hour), now.Add(-time.Hour), false},     // changed lately
		{providers.CIRunning, now.Add(-72 * time.Hour), now.Add(-25 * time.Hour), true}, // stuck
	} {
		if got := rs.settled(tc.status, tc.created, tc.updated); got != tc.want {
			t.Errorf("settled(%s, %v, %v) = %v, want %v", tc.status, tc.created, tc.updated, got, tc.want)
		}
	}
}
