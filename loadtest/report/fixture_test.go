package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/report"
)

// point is one transport at one load point, as the fixtures below build
// it by hand: per round, calls and errors over one second, p50 and p99.
type point struct {
	transport  string
	conc       int
	rate       float64
	network    string
	rows       int
	calls      uint64
	errors     uint64
	codes      map[string]uint64
	p50, p99   float64 // µs
	refRatio   float64
	stuck      uint64
	openConns  int
	bytesOut   uint64 // per call
	srvCPUNsPC int64  // per call
}

// result builds the result of p over rounds rounds, each the same, and
// summarizes it.
func (p point) result(rounds int) *bench.Result {
	res := &bench.Result{Transport: p.transport, Concurrency: p.conc, Rate: p.rate, Network: p.network, StatementRows: p.rows}
	for i := 0; i < rounds; i++ {
		smp := &bench.Sample{Round: i, ElapsedNs: 1e9, Calls: p.calls, Errors: p.errors, Throughput: float64(p.calls),
			RefRatio: p.refRatio, Stuck: p.stuck, ServerOwnProc: true, ServerRSSBytes: 64 << 20,
			ServerCPUNs: p.srvCPUNsPC * int64(p.calls), ClientCPUNs: 10_000 * int64(p.calls),
			ServerAllocs: 20 * p.calls, ClientAllocs: 30 * p.calls,
			BytesIn: 100 * p.calls, BytesOut: p.bytesOut * p.calls,
			Ops: map[string]*bench.OpResult{"all": {Calls: p.calls, Errors: p.errors, ErrorsByCode: p.codes,
				P50: p.p50, P90: p.p99 * 0.8, P99: p.p99, P999: p.p99 * 1.5, Max: p.p99 * 2}}}
		if p.openConns > 0 {
			smp.OpenConns = p.openConns
			smp.Idle = &bench.ConnStats{RSSBytes: 10 << 20, LiveHeapBytes: 2 << 20, Goroutines: 10}
			smp.Connected = &bench.ConnStats{RSSBytes: 10<<20 + uint64(p.openConns)*40<<10, LiveHeapBytes: 2<<20 + uint64(p.openConns)*8<<10, Goroutines: 10 + 2*uint64(p.openConns)}
		}
		res.Samples = append(res.Samples, smp)
	}
	res.Summarize()
	return res
}

// fixture is a report of points, two rounds each.
func fixture(c bench.Config, points ...point) *bench.Report {
	r := &bench.Report{Kind: bench.Kind, Format: bench.Format, Config: c}
	for _, p := range points {
		r.Results = append(r.Results, p.result(2))
	}
	return r
}

func closedConfig(conc ...int) bench.Config {
	c := bench.DefaultConfig()
	c.Transports = []string{"raw", "grpc", "thrift"}
	c.Concurrency = conc
	return c
}

func table(t *testing.T, r *bench.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func page(t *testing.T, r *bench.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// row is the fields of the table line of transport (the first of them).
func row(t *testing.T, out, transport string) []string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && f[1] == transport {
			return f
		}
	}
	t.Fatalf("no row of %s:\n%s", transport, out)
	return nil
}

// order is the transports of the table's rows, in order.
func order(out string, transports ...string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		for _, tr := range transports {
			if len(f) > 1 && f[1] == tr {
				got = append(got, f[0]+" "+tr)
			}
		}
	}
	return got
}

var ref = registry.ReferenceName
