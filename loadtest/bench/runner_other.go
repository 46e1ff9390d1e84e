//go:build !linux

package bench

import "time"

// precisePacing says whether sleepPrecise wakes within tens of µs.
const precisePacing = false

// sleepPrecise waits d with time.Sleep: there is no timer slack to set
// here, so a wake-up can be as late as Go's timers are on this system
// (the open loop counts the delay as latency and, from 1 ms, as late).
// Spinning instead would be punctual but would burn the client CPU the
// report measures, and take it from the server on a small machine.
func sleepPrecise(d time.Duration, now func() int64, deadline int64) {
	time.Sleep(d)
}
