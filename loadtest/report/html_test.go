package report_test

import (
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/internal/benchtest"
)

// section is the HTML of the page's section id ("" if it has none).
func section(h, id string) string {
	i := strings.Index(h, `<section id="`+id+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(h[i:], "</section>")
	return h[i : i+j]
}

// sweep is the points of transports at each load of loads: p99 grows
// with the load, and the last transport falls behind the highest.
func sweep(open bool, loads []float64, tweak func(*point), transports ...string) []point {
	var ps []point
	for i, l := range loads {
		for j, tr := range transports {
			p := point{transport: tr, conc: int(l), calls: uint64(l) * 10, p50: 100 * float64(i+1), p99: 300 * float64((i+1)*(i+1)*(j+1))}
			if open {
				p.conc, p.rate, p.calls = 512, l, uint64(l)
				if j == len(transports)-1 && i == len(loads)-1 {
					p.calls = uint64(l) / 2
				}
			}
			if tweak != nil {
				tweak(&p)
			}
			ps = append(ps, p)
		}
	}
	return ps
}

// TestHTMLOpenLoopSweep checks the latency-against-load section of an
// open-loop sweep: per setting, p50 (dashed) and p99 against the offered
// rate beside the achieved rate with its y = x line.
func TestHTMLOpenLoopSweep(t *testing.T) {
	c := closedConfig(512)
	c.Rates = []float64{1000, 5000, 20000}
	r := fixture(c, sweep(true, c.Rates, nil, ref, "raw", "grpc")...)
	h := page(t, r)
	benchtest.CheckHTML(t, []byte(h), []string{"throughput", "load", "latency", "cpu", "bytes"})
	load := section(h, "load")
	if n := strings.Count(load, "<svg"); n != 2 {
		t.Errorf("load section: %d charts, want latency and achieved", n)
	}
	for _, want := range []string{"offered calls/s (open loop)", "raw p50", "grpc p99", `stroke-dasharray="5 4"`, "all offered served", "Successful against offered calls/s"} {
		if !strings.Contains(load, want) {
			t.Errorf("load section lacks %q", want)
		}
	}
	// Three points a transport, each a line.
	if n := strings.Count(load, "<polyline"); n != 3*2+3 {
		t.Errorf("%d lines, want p50 and p99 of 3 transports and the achieved rate of each", n)
	}
}

// TestHTMLClosedLoopSweep checks a closed-loop sweep draws latency
// against the callers, with no y = x line (nothing is offered).
func TestHTMLClosedLoopSweep(t *testing.T) {
	c := closedConfig(1, 16, 256)
	r := fixture(c, sweep(false, []float64{1, 16, 256}, nil, "raw", "grpc")...)
	h := page(t, r)
	benchtest.CheckHTML(t, []byte(h), []string{"throughput", "load"})
	load := section(h, "load")
	if !strings.Contains(load, "callers (closed loop)") || strings.Contains(load, "all offered served") {
		t.Errorf("closed-loop load section wrong:\n%s", load)
	}
	// No sweep, no section.
	one := page(t, fixture(closedConfig(16), sweep(false, []float64{16}, nil, "raw")...))
	if section(one, "load") != "" {
		t.Errorf("a load section without a sweep")
	}
}

// TestHTMLStatementRows checks the payload-size section: four charts
// against the statement rows, one line per transport.
func TestHTMLStatementRows(t *testing.T) {
	c := closedConfig(64)
	c.StatementRows = []int{10, 100, 1000}
	var ps []point
	for _, rows := range c.StatementRows {
		for _, tr := range []string{"raw", "grpc"} {
			ps = append(ps, point{transport: tr, conc: 64, rows: rows, calls: 1000, p50: float64(rows), p99: 3 * float64(rows), bytesOut: uint64(rows) * 40, srvCPUNsPC: int64(rows) * 100})
		}
	}
	h := page(t, fixture(c, ps...))
	benchtest.CheckHTML(t, []byte(h), []string{"rows"})
	rows := section(h, "rows")
	if n := strings.Count(rows, "<svg"); n != 4 {
		t.Errorf("rows section: %d charts, want 4", n)
	}
	for _, want := range []string{"Bytes per call, server → client against statement rows", "Server CPU per call", "Server allocations per call", "p50 latency", ">1,000<"} {
		if !strings.Contains(rows, want) {
			t.Errorf("rows section lacks %q", want)
		}
	}
	if n := strings.Count(rows, "<polyline"); n != 4*2 {
		t.Errorf("%d lines, want 2 per chart", n)
	}
	for _, want := range []string{"<h3>10 statement rows</h3>", "<h3>1,000 statement rows</h3>"} {
		if !strings.Contains(section(h, "table"), want) {
			t.Errorf("tables lack the heading %q", want)
		}
	}
}

// TestHTMLNetworks checks that the tables are under a heading per
// network, in the run's order, and that a network section compares them.
func TestHTMLNetworks(t *testing.T) {
	c := closedConfig(64)
	c.Networks = []string{"wan", "loopback"}
	r := fixture(c,
		point{transport: "raw", conc: 64, network: "loopback", calls: 5000, p50: 50, p99: 100},
		point{transport: "grpc", conc: 64, network: "loopback", calls: 4000, p50: 60, p99: 120},
		point{transport: "raw", conc: 64, network: "wan", calls: 500, p50: 50_000, p99: 60_000},
		point{transport: "grpc", conc: 64, network: "wan", calls: 400, errors: 400, codes: map[string]uint64{"unavailable": 400}},
	)
	h := page(t, r)
	benchtest.CheckHTML(t, []byte(h), []string{"network", "throughput"})
	tables := section(h, "table")
	w, l := strings.Index(tables, "<h3>wan</h3>"), strings.Index(tables, "<h3>loopback</h3>")
	if w < 0 || l < 0 || w > l {
		t.Errorf("tables not under a heading per network, wan first:\n%s", tables)
	}
	net := section(h, "network")
	for _, want := range []string{"raw · wan", "raw · loopback", "grpc (FAILED) · wan", "Successful calls/s by network, concurrency 64"} {
		if !strings.Contains(net, want) {
			t.Errorf("network section lacks %q", want)
		}
	}
	for _, id := range []string{"security", "churn", "rows", "load"} {
		if section(h, id) != "" {
			t.Errorf("a %s section though the run did not vary it", id)
		}
	}
}

// TestHTMLSecurity checks the security section, with churn in the label
// and not security.
func TestHTMLSecurity(t *testing.T) {
	c := closedConfig(8)
	c.Security = []string{bench.SecurityPlain, bench.SecurityTLS}
	c.Churn = []bool{true}
	r := fixture(c, point{transport: "raw", conc: 8, calls: 100}, point{transport: "raw", conc: 8, calls: 50})
	r.Results[1].Security = bench.SecurityTLS
	for _, res := range r.Results {
		res.Churn = true
	}
	h := page(t, r)
	sec := section(h, "security")
	for _, want := range []string{"raw · plain", "raw · tls", "<h3>concurrency 8, a new connection per call</h3>"} {
		if !strings.Contains(sec, want) {
			t.Errorf("security section lacks %q:\n%s", want, sec)
		}
	}
}
