package pace

import (
	"slices"
	"testing"
	"time"
)

// TestUntil sleeps to instants a few milliseconds away, never waking
// before them. How late it wakes is logged, not asserted: on a loaded
// machine the kernel decides that (netem's ping-pong test checks the
// accuracy that matters, within 10% of a profile's round trip).
func TestUntil(t *testing.T) {
	var late []time.Duration
	for i := range 21 {
		at := time.Now().Add(time.Duration(1+i%4) * time.Millisecond)
		Until(at)
		d := time.Since(at)
		if d < 0 {
			t.Fatalf("woke %v early", -d)
		}
		late = append(late, d)
	}
	Until(time.Now().Add(-time.Second)) // past: returns at once
	slices.Sort(late)
	t.Logf("median lateness %v (precise: %v)", late[len(late)/2], Precise)
}
