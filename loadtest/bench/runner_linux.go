package bench

import (
	"time"

	"golang.org/x/sys/unix"
)

// precisePacing says whether sleepPrecise wakes within tens of µs.
const precisePacing = true

// sleepPrecise waits until now() reaches deadline (d from now). Go's
// timers wake up to a millisecond late when the process is otherwise idle
// (the netpoller's timeout has millisecond resolution), which an open
// loop would count as latency; so the last stretch is a nanosleep with the
// thread's timer slack set to 1 ns, which wakes within tens of µs.
func sleepPrecise(d time.Duration, now func() int64, deadline int64) {
	if d > 2*time.Millisecond {
		time.Sleep(d - time.Millisecond)
		d = time.Duration(deadline - now())
		if d <= 0 {
			return
		}
	}
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
