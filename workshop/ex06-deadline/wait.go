//go:build !solution

package deadline

import (
	"context"
	"time"
)

// wait pauses for delay before the next attempt, and returns nil once it
// has. It returns an error instead:
//   - at once, without pausing, when ctx has a deadline that comes before
//     the pause would end: no attempt could start in time, so waiting
//     would only make the caller wait for nothing;
//   - as soon as ctx ends (canceled, or its deadline passed) during the
//     pause.
func wait(ctx context.Context, delay time.Duration) error {
	// TODO(student): this sleeps whatever the caller's deadline, and
	// goes on sleeping after the caller has given up. Read the deadline
	// with ctx.Deadline(), and pause with a timer in a select that also
	// watches ctx.Done().
	time.Sleep(delay)
	return nil
}
