//go:build !linux

package server

import (
	"fmt"
	"runtime"
)

// PinAvailable says whether PinCPUs can pin.
const PinAvailable = false

// RSSAvailable says whether readRSS reads anything on this system.
const RSSAvailable = false

// readRSS returns 0: without /proc there is no current resident size to
// read without cgo (getrusage's ru_maxrss is the peak, which would pass
// for a figure it is not), so the report shows none.
func readRSS() uint64 { return 0 }

// PinCPUs fails if asked to pin anything: there is no sched_setaffinity
// here (macOS has no CPU affinity at all).
func PinCPUs(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	return fmt.Errorf("CPU pinning is unavailable on %s (it needs Linux's sched_setaffinity)", runtime.GOOS)
}
