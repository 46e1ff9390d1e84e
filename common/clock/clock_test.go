package clock

import (
	"testing"
	"time"
)

func TestSkewedOffsetAndDrift(t *testing.T) {
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var e time.Duration
	for _, c := range []struct {
		offset  time.Duration
		ppm     float64
		elapsed time.Duration
		want    time.Time
	}{
		{0, 0, time.Hour, start.Add(time.Hour)},
		{10 * time.Second, 0, time.Hour, start.Add(time.Hour + 10*time.Second)},
		{-time.Minute, 0, 0, start.Add(-time.Minute)},
		// 100 ppm gains 100 µs per second: 360 ms an hour.
		{0, 100, time.Hour, start.Add(time.Hour + 360*time.Millisecond)},
		{time.Second, -500, 1000 * time.Second, start.Add(time.Second + 1000*time.Second - 500*time.Millisecond)},
	} {
		now := skewed(start, func() time.Duration { return e }, c.offset, c.ppm)
		e = c.elapsed
		if got := now(); !got.Equal(c.want) {
			t.Errorf("offset %v, drift %v ppm, after %v: %v, want %v", c.offset, c.ppm, c.elapsed, got, c.want)
		}
	}
}

func TestSkewedFollowsTheRealClock(t *testing.T) {
	now := Skewed(time.Hour, 0)
	got := now().Sub(time.Now())
	if got < time.Hour-time.Second || got > time.Hour+time.Second {
		t.Fatalf("Skewed(1h, 0) reads %v ahead of time.Now, want about 1h", got)
	}
	if a, b := now(), now(); b.Before(a) {
		t.Fatalf("went back: %v then %v", a, b)
	}
}
