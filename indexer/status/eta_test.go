package status

import (
	"testing"
	"time"
)

func TestEstimateETA(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	unbound := RateLimit{Known: true, Limit: 5000, Remaining: 5000, Reset: now.Add(time.Hour)}
	tests := []struct {
		name string
		in   ETAInput
		want time.Duration
		ok   bool
	}{
		{"done", ETAInput{Remaining: 0}, 0, true},
		{"nothing observed", ETAInput{Remaining: 10}, 0, false},
		// 1,000 commits in 10 s (100/s, 10 calls): 9,000 more take 90 s;
		// 90 calls fit in the window above the reserve.
		{"rate bound", ETAInput{Remaining: 9000, Done: 1000, Calls: 10, Elapsed: 10 * time.Second, Budget: unbound, Now: now}, 90 * time.Second, true},
		{"budget unknown", ETAInput{Remaining: 9000, Done: 1000, Calls: 10, Elapsed: 10 * time.Second, Now: now}, 90 * time.Second, true},
		// 100,000 commits need 1,000 calls; 400 are left, 300 of them are
		// the reserve (30% of 1,000): 100 now, then 700 per window: the
		// second window after the reset (at +30 min) spends the last 200
		// at the observed 1 call/s.
		{"budget bound", ETAInput{Remaining: 100_000, Done: 1000, Calls: 10, Elapsed: 10 * time.Second,
			Budget: RateLimit{Known: true, Limit: 1000, Remaining: 400, Reset: now.Add(30 * time.Minute)}, Share: 0.7, Now: now},
			30*time.Minute + time.Hour + 200*time.Second, true},
		// Same, the reset unknown: a whole window.
		{"reset unknown", ETAInput{Remaining: 100_000, Done: 1000, Calls: 10, Elapsed: 10 * time.Second,
			Budget: RateLimit{Known: true, Limit: 1000, Remaining: 400}, Share: 0.7, Window: 20 * time.Minute, Now: now},
			40*time.Minute + 200*time.Second, true},
		// The budget below the reserve: nothing now.
		{"reserve only", ETAInput{Remaining: 10_000, Done: 1000, Calls: 10, Elapsed: 10 * time.Second,
			Budget: RateLimit{Known: true, Limit: 1000, Remaining: 100, Reset: now.Add(10 * time.Minute)}, Now: now},
			10*time.Minute + 100*time.Second, true},
		// A slow observed rate (waits included) dominates the budget.
		{"slow listing", ETAInput{Remaining: 10_000, Done: 1000, Calls: 10, Elapsed: time.Hour, Budget: unbound, Now: now}, 10 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := EstimateETA(tt.in)
			if ok != tt.ok || (got-tt.want).Abs() > time.Millisecond {
				t.Errorf("EstimateETA = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
