package faults

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/registry"
)

// TestTimeoutLab is the timeout lesson through a real server behind a
// slow link (10 ms ± 5 ms each way, the server ignoring keys), on raw
// sockets and gRPC: an attempt timeout shorter than the round trip
// suspects the healthy server (spurious retries, deposits applied
// twice); one well above it suspects nothing; and a silent outage is
// declared sooner with the short timeout than with the long one.
func TestTimeoutLab(t *testing.T) {
	ms := time.Millisecond
	for _, name := range []string{"raw", "grpc"} {
		tr, ok := registry.Lookup(name)
		if !ok {
			t.Fatalf("no transport %q", name)
		}
		t.Run(name, func(t *testing.T) {
			c := DefaultTimeoutConfig(tr)
			c.Timeouts = []time.Duration{15 * ms, 300 * ms}
			c.Cell.Deposits, c.Cell.Duration = 80, time.Second
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			rep, err := RunTimeouts(ctx, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			WriteTimeoutTable(&b, rep)
			t.Log("\n" + b.String())
			short, long := rep.Points[0], rep.Points[1]
			if short.RetriesPerCall <= 0 || short.Duplicated == 0 {
				t.Errorf("15 ms against a 20–30 ms round trip: %.2f retries/call, %d applied twice; want both", short.RetriesPerCall, short.Duplicated)
			}
			if long.RetriesPerCall != 0 || long.Duplicated != 0 || long.BreakerOpened != 0 {
				t.Errorf("300 ms: %.2f retries/call, %d applied twice, breaker opened %d; want none", long.RetriesPerCall, long.Duplicated, long.BreakerOpened)
			}
			if long.DetectMs < 0 {
				t.Errorf("300 ms: the silent outage was never declared")
			} else if short.DetectMs >= 0 && short.DetectMs >= long.DetectMs {
				t.Errorf("outage declared after %.0f ms with 15 ms, %.0f ms with 300 ms: want sooner with the short timeout", short.DetectMs, long.DetectMs)
			}
		})
	}
}
