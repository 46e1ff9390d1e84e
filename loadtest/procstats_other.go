//go:build !linux

package loadtest

import (
	"fmt"
	"runtime"
)

// pinAvailable says whether pinCPUs can pin.
const pinAvailable = false

// rssAvailable says whether readRSS reads anything on this system.
const rssAvailable = false

// readRSS returns 0: without /proc there is no current resident size to
// read without cgo (getrusage's ru_maxrss is the peak, which would pass
// for a figure it is not), so the report shows none.
func readRSS() uint64 { return 0 }

// pinCPUs fails if asked to pin anything: there is no sched_setaffinity
// here (macOS has no CPU affinity at all).
func pinCPUs(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	return fmt.Errorf("CPU pinning is unavailable on %s (it needs Linux's sched_setaffinity)", runtime.GOOS)
}
