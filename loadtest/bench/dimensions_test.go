package bench_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/bench"
)

// TestStatementRows seeds statement months of 0 and 1,000 transactions
// and reads statements only: a call carries the page of up to 1,000 rows,
// so the bytes from server to client follow the seeded size on every
// encoding.
func TestStatementRows(t *testing.T) {
	c := bench.DefaultConfig()
	c.Transports, c.Reference, c.InProcess = []string{"raw", "grpc", "rest"}, false, true
	c.Rounds, c.Warmup, c.Duration = 1, 50*time.Millisecond, 200*time.Millisecond
	c.Concurrency, c.StatementRows = []int{2}, []int{0, 1000}
	c.Workload.Mix = bench.Mix{0, 100, 0}
	rep, err := bench.Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 6 {
		t.Fatalf("%d results, want 3 transports × 2 sizes", len(rep.Results))
	}
	for _, r := range rep.Results {
		s := r.Summary
		if s.Errors > 0 || s.Calls == 0 {
			t.Errorf("%s, %d rows: %d calls, errors %v", r.Transport, r.StatementRows, s.Calls, s.ErrorsByCode)
		}
		out := s.BytesOutPerCall.Median
		if (r.StatementRows == 1000 && out < 10_000) || (r.StatementRows == 0 && out > 1000) {
			t.Errorf("%s, %d rows: %.0f bytes a call from the server", r.Transport, r.StatementRows, out)
		}
	}
}

// TestConnectionsMemory holds 200 connections to a raw-sockets server
// process and reports what each costs it, settled: at least the reader of
// each, and no more than the idle workers raw sockets keep (16).
func TestConnectionsMemory(t *testing.T) {
	c := bench.DefaultConfig()
	c.Transports, c.Reference = []string{"raw"}, false
	c.Rounds, c.Warmup, c.Duration = 1, 50*time.Millisecond, 200*time.Millisecond
	c.Concurrency, c.Connections = []int{200}, bench.Counts{200}
	rep, err := bench.Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	smp := r.Samples[0]
	if smp.OpenConns != 200 || smp.Idle == nil || smp.Connected == nil {
		t.Fatalf("open connections %d, idle %+v, connected %+v", smp.OpenConns, smp.Idle, smp.Connected)
	}
	if g := r.Summary.GoroutinesPerConn.Median; g < 0.9 || g > 18 {
		t.Errorf("%.2f goroutines per connection", g)
	}
	if h := r.Summary.HeapPerConnKiB.Median; h <= 0 {
		t.Errorf("%.1f KiB of live heap per connection", h)
	}
}

// TestConnectionsSweep runs two connection counts as a dimension: a
// result for each, and a report saved when connections were one number
// still reads.
func TestConnectionsSweep(t *testing.T) {
	c := bench.DefaultConfig()
	c.Transports, c.Reference, c.InProcess = []string{"raw"}, false, true
	c.Rounds, c.Warmup, c.Duration = 1, 50*time.Millisecond, 100*time.Millisecond
	c.Concurrency, c.Connections = []int{4}, bench.Counts{1, 3}
	rep, err := bench.Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Results[0].Connections != 1 || rep.Results[1].Connections != 3 {
		t.Fatalf("results: %d, want one at 1 connection and one at 3", len(rep.Results))
	}
	for _, tc := range []struct {
		js   string
		want bench.Counts
	}{{`0`, nil}, {`5`, bench.Counts{5}}, {`[1,10000]`, bench.Counts{1, 10000}}, {`null`, nil}} {
		var got bench.Counts
		if err := json.Unmarshal([]byte(tc.js), &got); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("connections %s read as %v, %v; want %v", tc.js, got, err, tc.want)
		}
	}
}
