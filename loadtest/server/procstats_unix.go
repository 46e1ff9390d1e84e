//go:build unix

package server

import "golang.org/x/sys/unix"

// processCPUTime returns this process's user and system CPU time, in
// nanoseconds, from getrusage; 0, 0 if it cannot be read.
func processCPUTime() (user, sys int64) {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) == nil {
		user = ru.Utime.Nano()
		sys = ru.Stime.Nano()
	}
	return user, sys
}
