package cli

import (
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/igbank/igbank/common/clock"
	"github.com/igbank/igbank/common/store"
)

// Clock is -clock-offset and -clock-drift: a server's wall clock made
// wrong on purpose (package clock), for the unreliable-clocks experiments.
// It dates the transactions and expires the keys of the memory and SQLite
// ledgers; a PostgreSQL store decides both by the database's clock, which
// is the fix (see package postgres). Timeouts and deadlines are not
// affected: they run on the monotonic clock.
type Clock struct {
	Offset   time.Duration
	DriftPPM float64
}

// Register adds -clock-offset and -clock-drift to fs.
func (c *Clock) Register(fs *flag.FlagSet) {
	fs.DurationVar(&c.Offset, "clock-offset", 0, "experiment: run the server's wall clock this far ahead (negative: behind) of the true time; timeouts are not affected")
	fs.Float64Var(&c.DriftPPM, "clock-drift", 0, "experiment: the server's wall clock gains this many microseconds per second (PPM; negative: loses)")
}

// Args returns the flags that give a server process this clock.
func (c Clock) Args() []string {
	var args []string
	if c.Offset != 0 {
		args = append(args, "-clock-offset", c.Offset.String())
	}
	if c.DriftPPM != 0 {
		args = append(args, "-clock-drift", fmt.Sprint(c.DriftPPM))
	}
	return args
}

// StoreOptions returns the store option that installs the clock, none for
// the true clock.
func (c Clock) StoreOptions() ([]store.Option, error) {
	if math.IsNaN(c.DriftPPM) || math.Abs(c.DriftPPM) >= 1e6 {
		return nil, fmt.Errorf("-clock-drift %v: want a rate of PPM between -1e6 and 1e6", c.DriftPPM)
	}
	if c.Offset == 0 && c.DriftPPM == 0 {
		return nil, nil
	}
	return []store.Option{store.WithClock(clock.Skewed(c.Offset, c.DriftPPM))}, nil
}
