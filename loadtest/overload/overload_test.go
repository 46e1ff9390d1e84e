package overload

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestSheddingBoundsLatency is the experiment at three times capacity,
// through raw sockets and gRPC, servers in their own processes. Without
// shedding (the bug) the server's queue grows until calls wait out their
// deadline: p99 of the successful calls is far above the service time,
// calls fail on their deadline, goodput falls. With shedding (the fix) the
// excess is refused at once: p99 stays within a few service times and
// goodput stays near capacity. It asserts ratios with wide margins (the
// run behind docs/benchmarks.md measured about 17× for p99; it asks 2.5×)
// and one bound relative to the calls' own deadline, never absolute
// service times.
func TestSheddingBoundsLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("drives servers for about 12 seconds")
	}
	if raceEnabled {
		t.Skip("a timing experiment: under the race detector the servers and the generator, not the backend, are the bottleneck")
	}
	c := DefaultConfig()
	c.Multiples = []float64{3}
	c.Warmup, c.Duration = 300*time.Millisecond, 1500*time.Millisecond
	rep, err := Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	WriteText(&text, rep)
	t.Logf("\n%s", text.String())
	for _, tr := range c.Transports {
		capacity := rep.Capacity[tr]
		var off, on *Point
		for i := range rep.Points {
			p := &rep.Points[i]
			if p.Transport != tr {
				continue
			}
			if p.Shedding {
				on = p
			} else {
				off = p
			}
		}
		if off == nil || on == nil || capacity <= 0 {
			t.Fatalf("%s: a mode is missing (capacity %.0f)", tr, capacity)
		}
		// The bug, shedding off.
		if off.Failed == 0 {
			t.Errorf("%s, shedding off: no call failed on its deadline at 3× capacity", tr)
		}
		// The fix, shedding on.
		if on.Shed == 0 || on.Failed > on.Calls/100 {
			t.Errorf("%s, shedding on: %d shed, %d failed of %d calls; want refusals, not deadline failures", tr, on.Shed, on.Failed, on.Calls)
		}
		// Without shedding, no call at all may have succeeded in time:
		// then its p99 is unbounded, which passes. With it, p99 stays
		// well inside the deadline (500 ms): bounded by the queue, not by
		// the callers giving up. The margins are wide, for a loaded
		// machine (a gRPC run beside two builds: 498 against 129 ms).
		if on.P99 <= 0 || on.P99 > 250e3 || (off.Goodput > 0 && off.P99 < 2.5*on.P99) {
			t.Errorf("%s: p99 %.1f ms without shedding, %.1f ms with: want at least 2.5 times lower with, and under half the 500 ms deadline", tr, off.P99/1000, on.P99/1000)
		}
		if on.Goodput < 0.5*capacity || on.Goodput < off.Goodput {
			t.Errorf("%s: goodput %.0f/s with shedding, %.0f/s without, capacity %.0f/s: want at least half the capacity, and no less than without", tr, on.Goodput, off.Goodput, capacity)
		}
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, rep); err != nil || !strings.Contains(page.String(), "<svg") {
		t.Fatalf("HTML: %v", err)
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(js.Bytes())
	if err != nil || len(back.Points) != len(rep.Points) {
		t.Fatalf("JSON round trip: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, mutate := range []func(*Config){
		func(c *Config) { c.Transports = nil },
		func(c *Config) { c.Transports = []string{"pigeon"} },
		func(c *Config) { c.Backend.Slots = 0 },
		func(c *Config) { c.Multiples = []float64{0} },
		func(c *Config) { c.MaxCalls = 0 },
		func(c *Config) { c.Timeout = 0 },
		func(c *Config) { c.Modes = nil },
	} {
		c := DefaultConfig()
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
