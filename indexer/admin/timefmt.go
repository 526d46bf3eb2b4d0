package admin

import (
	"strconv"
	"time"
)

// timeLayout is how the pages show a full timestamp.
const timeLayout = "2006-01-02 15:04:05 MST"

// at describes t relative to now; zero shows as ifZero.
func at(t, now time.Time, ifZero string) when {
	if t.IsZero() {
		return when{Rel: ifZero}
	}
	return when{Rel: Ago(t, now), Abs: t.Format(timeLayout)}
}

// Ago describes t relative to now in a few words: "just now",
// "42 s ago", "3 min ago", "2 h 5 min ago", "4 days ago", and "in 3 min"
// for a time in the future.
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "in " + span(-d)
	}
	if d < 5*time.Second {
		return "just now"
	}
	return span(d) + " ago"
}

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return strconv.Itoa(h) + " h"
		}
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	case d < 48*time.Hour:
		return "1 day"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}

// clock is t as HH:MM:SS, "" when zero.
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("15:04:05")
}

// thousands formats n with comma separators: 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
