//go:build !linux

package pace

import "time"

// Precise says whether Until wakes within tens of µs: not here, where
// there is no timer slack to set. Spinning instead would be punctual but
// would burn the CPU that the benchmarks measure.
const Precise = false

const coarse = 0

func sleep(d time.Duration) { time.Sleep(d) }
