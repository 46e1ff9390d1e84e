// Package clock is a server's wall clock, made wrong on purpose for the
// unreliable-clocks experiments: serve -clock-offset D -clock-drift PPM.
//
// Only the wall-clock times a ledger records and compares (transaction
// times, idempotency-key expiry) come from it. Timeouts, deadlines and
// leases measured inside one process keep using Go's monotonic clock
// (time.Since, context deadlines), which no offset or drift here touches:
// a real machine's NTP step moves its wall clock, not its monotonic one.
package clock

import "time"

// Skewed returns a wall clock that reads offset ahead of the true time at
// the moment Skewed is called (behind, if offset is negative) and gains
// driftPPM microseconds per second from then on (loses, if negative). The
// elapsed time is measured with the monotonic clock from that moment, so
// the drift is exact and an NTP step of the machine does not disturb it.
// The times it returns carry no monotonic reading: they compare as the
// wall-clock times they pretend to be. Skewed(0, 0) is time.Now without
// the monotonic reading.
func Skewed(offset time.Duration, driftPPM float64) func() time.Time {
	start := time.Now()
	return skewed(start, func() time.Duration { return time.Since(start) }, offset, driftPPM)
}

func skewed(start time.Time, elapsed func() time.Duration, offset time.Duration, driftPPM float64) func() time.Time {
	wall := start.Round(0)
	return func() time.Time {
		e := elapsed()
		return wall.Add(offset + e + time.Duration(float64(e)*driftPPM/1e6))
	}
}
