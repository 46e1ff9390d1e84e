// Package pace sleeps until an instant, punctually. Go's timers wake up to
// a millisecond late when a process is otherwise idle (the netpoller waits
// in whole milliseconds), which is noise beside a WAN's 30 ms but a quarter
// of a LAN's 4 ms round trip, and shows as latency in an open loop's
// percentiles. Until sleeps on a timer for all but the last millisecond,
// then, on Linux, in nanosleep with the thread's timer slack set to 1 ns,
// which wakes within tens of µs; elsewhere it sleeps on the timer alone.
// The load generator paces its open loop with it, and common/netem
// delivers delayed bytes with it.
package pace

import "time"

// Until sleeps until t, or returns at once if t has passed. The last
// stretch (a millisecond at most, on Linux) holds the calling goroutine's
// thread in a system call.
func Until(t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	if d > coarse {
		time.Sleep(d - coarse)
		if d = time.Until(t); d <= 0 {
			return
		}
	}
	sleep(d)
}

// Coarse returns how long before t a caller that waits on its own timer
// (in a select, say) should wake to finish with Until: the stretch a timer
// cannot be trusted with.
func Coarse(t time.Time) time.Time { return t.Add(-coarse) }
