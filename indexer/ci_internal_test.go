package indexer

import (
	"testing"
	"time"
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
