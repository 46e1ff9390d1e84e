package pace

import (
	"time"

	"golang.org/x/sys/unix"
)

// Precise says whether Until wakes within tens of µs.
const Precise = true

// coarse is the stretch before the deadline left to nanosleep.
const coarse = time.Millisecond

func sleep(d time.Duration) {
	// Timer slack is per thread; the goroutine may be on another thread
	// than last time, so it is set every time (a cheap system call).
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
