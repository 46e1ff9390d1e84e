package bench_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/bench"
)

// TestStuckCallers drives a server that accepts connections and never
// answers (a listener nobody accepts from: the kernel completes the
// handshakes, as for a server at its limit): no call completes, and each
// caller counts as one error once the run's own deadline passes, so that
// the point is a failure, not a row of zeros. A client that cannot
// connect at all counts the same way, as unavailable.
func TestStuckCallers(t *testing.T) {
	defer func(g time.Duration) { bench.CutOffGrace = g }(bench.CutOffGrace)
	bench.CutOffGrace = 300 * time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Nothing listens on closed: every dial fails at once.
	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := cl.Addr().String()
	cl.Close()
	for _, tc := range []struct {
		name, addr string
		conn       int
		code       string
	}{
		{"one client", l.Addr().String(), 0, "deadline_exceeded"},
		{"a client each", l.Addr().String(), 4, "deadline_exceeded"},
		{"dials refused", closed, 4, "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bench.DefaultConfig()
			c.Transports, c.Reference, c.Addr = []string{"netrpc"}, false, tc.addr
			c.Rounds, c.Warmup, c.Duration = 1, 100*time.Millisecond, 200*time.Millisecond
			c.Concurrency, c.Connections = []int{4}, bench.Counts{tc.conn}
			rep, err := bench.Run(context.Background(), c, nil)
			if err != nil {
				t.Fatal(err)
			}
			res := rep.Results[0]
			s := res.Summary
			if !s.Failed || s.Calls != 4 || s.Errors != 4 || res.Samples[0].Stuck != 4 || s.ErrorsByCode[tc.code] != 4 {
				t.Fatalf("failed %v, %d calls, %d errors (%v), %d stuck; want a failure of 4 stuck calls, %s",
					s.Failed, s.Calls, s.Errors, s.ErrorsByCode, res.Samples[0].Stuck, tc.code)
			}
		})
	}
}
