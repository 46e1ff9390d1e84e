//go:build solution

package deadline

import (
	"context"
	"errors"
	"time"
)

var errNoTime = errors.New("the deadline comes before the next attempt could start")

// wait pauses for delay before the next attempt, and returns nil once it
// has. It returns an error instead:
//   - at once, without pausing, when ctx has a deadline that comes before
//     the pause would end: no attempt could start in time, so waiting
//     would only make the caller wait for nothing;
//   - as soon as ctx ends (canceled, or its deadline passed) during the
//     pause.
func wait(ctx context.Context, delay time.Duration) error {
	if d, ok := ctx.Deadline(); ok && !time.Now().Add(delay).Before(d) {
		return errNoTime
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
