package report_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/report"
)

var unavailable = map[string]uint64{"unavailable": 1200, "deadline_exceeded": 34}

// TestRankingCountsErrors checks that a transport that failed calls
// ranks below every one that did not, however many calls it made, that
// the calls/s shown are successful ones with the error rate beside them,
// and that the reference stays first and unranked.
func TestRankingCountsErrors(t *testing.T) {
	r := fixture(closedConfig(64),
		point{transport: "fast", conc: 64, calls: 50_000, errors: 5_000, codes: map[string]uint64{"unavailable": 5_000}, p50: 100, p99: 900, refRatio: 4.5},
		point{transport: "slow", conc: 64, calls: 20_000, p50: 300, p99: 2000, refRatio: 2},
		point{transport: ref, conc: 64, calls: 10_000, p50: 50, p99: 200, refRatio: 1},
		point{transport: "steady", conc: 64, calls: 30_000, p50: 200, p99: 1500, refRatio: 3},
	)
	out := table(t, r)
	want := []string{"- " + ref, "1 steady", "2 slow", "3 fast"}
	if got := order(out, ref, "fast", "slow", "steady"); !slices.Equal(got, want) {
		t.Errorf("order %q, want %q:\n%s", got, want, out)
	}
	f := row(t, out, "fast")
	// 45,000 successful calls/s of 50,000; 10% of the calls failed; the
	// ratio to the reference is of the successful calls (the engine's).
	if f[2] != "45.0k" || f[4] != "10%" || f[5] != "4.50" {
		t.Errorf("fast: calls/s %q err %q ×ref %q, want 45.0k, 10%%, 4.50:\n%s", f[2], f[4], f[5], out)
	}
	if s := row(t, out, "steady"); s[4] != "0" {
		t.Errorf("steady: err %q, want 0", s[4])
	}
	if !strings.Contains(out, "err %") {
		t.Errorf("no err %% column:\n%s", out)
	}
}

// TestRankingOpenLoop checks that in an open loop the error-free
// transports rank by p99, ahead of one with errors and a lower p99.
func TestRankingOpenLoop(t *testing.T) {
	c := closedConfig(256)
	c.Rates = []float64{5000}
	r := fixture(c,
		point{transport: "quick-but-failing", conc: 256, rate: 5000, calls: 5000, errors: 10, codes: map[string]uint64{"unavailable": 10}, p50: 50, p99: 100},
		point{transport: "laggard", conc: 256, rate: 5000, calls: 5000, p50: 500, p99: 9000},
		point{transport: "nimble", conc: 256, rate: 5000, calls: 5000, p50: 100, p99: 800},
	)
	out := table(t, r)
	want := []string{"1 nimble", "2 laggard", "3 quick-but-failing"}
	if got := order(out, "quick-but-failing", "laggard", "nimble"); !slices.Equal(got, want) {
		t.Errorf("order %q, want %q:\n%s", got, want, out)
	}
}

// TestNoReferenceDash checks that ×ref is an en dash, not 0, in the table
// and the page when the run had no reference.
func TestNoReferenceDash(t *testing.T) {
	c := closedConfig(8)
	c.Reference = false
	r := fixture(c, point{transport: "raw", conc: 8, calls: 1000, p50: 100, p99: 200})
	out := table(t, r)
	if f := row(t, out, "raw"); f[5] != "–" {
		t.Errorf("×ref %q, want –:\n%s", f[5], out)
	}
	if h := page(t, r); !strings.Contains(h, "<td>–</td>") || strings.Contains(h, "<td>0.00</td>") {
		t.Errorf("page: ×ref not an en dash")
	}
	var b bytes.Buffer
	report.WriteComparison(&b, r, r, "a", "b")
	var f []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "raw ") {
			f = strings.Fields(l) // raw, concurrency 8, calls/s A and B, Δ, err % A and B, ×ref A and B
		}
	}
	if len(f) < 10 || f[8] != "–" || f[9] != "–" {
		t.Errorf("comparison: ×ref not en dashes:\n%s", b.String())
	}
}

// TestFailedResult checks that a point where no call succeeded shows as a
// failure with its error codes, and none of its figures as numbers.
func TestFailedResult(t *testing.T) {
	r := fixture(closedConfig(2000),
		point{transport: "grpc", conc: 2000, calls: 3000, p50: 500, p99: 900},
		point{transport: "raw", conc: 2000, calls: 1234, errors: 1234, codes: map[string]uint64{"unavailable": 1200, "deadline_exceeded": 34}, stuck: 34},
	)
	out := table(t, r)
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " raw ") {
			line = l
		}
	}
	if !strings.Contains(line, "FAILED: no call succeeded") || !strings.Contains(line, "deadline_exceeded:68 unavailable:2400; 68 stuck") || !strings.Contains(line, "100%") {
		t.Errorf("failed row %q", line)
	}
	for _, f := range strings.Fields(line) {
		if strings.HasSuffix(f, "µs") || f == "0" || f == "0.0" || f == "0.00" {
			t.Errorf("failed row shows a figure %q: %q", f, line)
		}
	}
	if f := row(t, out, "raw"); f[0] != "-" {
		t.Errorf("failed result ranked %q", f[0])
	}
	h := page(t, r)
	if !strings.Contains(h, `<td class="fail" colspan="2">FAILED: no call succeeded</td><td>100%</td>`) {
		t.Errorf("page: no failure cell:\n%s", h)
	}
}

// TestFailures checks the lines the command prints for a run's failures.
func TestFailures(t *testing.T) {
	c := closedConfig(2000)
	c.Networks = []string{"wan"}
	r := fixture(c,
		point{transport: "grpc", conc: 2000, network: "wan", calls: 3000},
		point{transport: "raw", conc: 2000, network: "wan", calls: 1300, errors: 1234, codes: unavailable},
		point{transport: "thrift", conc: 2000, network: "wan", calls: 10, errors: 10, codes: map[string]uint64{"unavailable": 10}},
	)
	got := report.Failures(r)
	want := []string{
		// Two rounds each.
		"raw, concurrency 2000, wan: 2,468 of 2,600 calls failed (deadline_exceeded:68 unavailable:2400)",
		"thrift, concurrency 2000, wan: FAILED, no call succeeded: 20 of 20 calls failed (unavailable:20)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Failures:\n%q\nwant\n%q", got, want)
	}
	if fs := report.Failures(fixture(c, point{transport: "grpc", conc: 2000, calls: 3000})); fs != nil {
		t.Errorf("Failures of a clean run: %q", fs)
	}
}

// TestConnMemoryColumns checks the per-connection columns appear where
// a result measured them, and only there.
func TestConnMemoryColumns(t *testing.T) {
	r := fixture(closedConfig(100),
		point{transport: "raw", conc: 100, calls: 1000, p50: 100, p99: 200, openConns: 100},
		point{transport: "grpc", conc: 100, calls: 1000, p50: 100, p99: 200},
	)
	out := table(t, r)
	for _, want := range []string{"KiB/conn RSS", "KiB/conn heap", "goroutines/conn", "settled, 100 connections"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if f := row(t, out, "raw"); !slices.Contains(f, "40.0") || !slices.Contains(f, "8.0") || !slices.Contains(f, "2.00") {
		t.Errorf("raw's memory per connection: %q", f)
	}
	if h := page(t, r); !strings.Contains(h, "<th>KiB/conn RSS</th>") {
		t.Errorf("page lacks the memory columns")
	}
	plain := table(t, fixture(closedConfig(100), point{transport: "grpc", conc: 100, calls: 1000}))
	if strings.Contains(plain, "KiB/conn") {
		t.Errorf("memory columns without memory measured:\n%s", plain)
	}
}

// TestGroupLabels checks that labels name the network and the statement
// rows when the run made them dimensions.
func TestGroupLabels(t *testing.T) {
	c := closedConfig(64)
	c.Networks = []string{"loopback", "custom:delay=5ms"}
	c.StatementRows = []int{0, 1000}
	r := fixture(c,
		point{transport: "raw", conc: 64, network: "loopback", rows: 0, calls: 1000},
		point{transport: "raw", conc: 64, network: "custom:delay=5ms", rows: 1000, calls: 1000},
	)
	out := table(t, r)
	for _, want := range []string{"concurrency 64, loopback, 0 statement rows —", "concurrency 64, custom:delay=5ms, 1,000 statement rows —"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestWriteCSVNewColumns checks the columns added at the end of the CSV.
func TestWriteCSVNewColumns(t *testing.T) {
	c := closedConfig(100)
	c.Networks = []string{"wan"}
	c.StatementRows = []int{500}
	r := fixture(c,
		point{transport: "raw", conc: 100, network: "wan", rows: 500, calls: 1000, errors: 100, codes: unavailable, stuck: 3, openConns: 100},
		point{transport: "grpc", conc: 100, network: "wan", rows: 500, calls: 1000},
	)
	var b bytes.Buffer
	if err := report.WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "transport" || rows[0][30] != "churn" {
		t.Fatalf("old columns moved: %q", rows[0])
	}
	tail := func(row []string) string { return strings.Join(row[31:], ",") }
	want := []string{
		"network,statement_rows,successful_per_s,error_rate,rss_per_conn_kib,heap_per_conn_kib,goroutines_per_conn,stuck,failed",
		"wan,500,900,0.1,40,8,2,6,false",
		"wan,500,1000,0,,,,0,false",
	}
	for i, w := range want {
		if got := tail(rows[i]); got != w {
			t.Errorf("row %d ends %q, want %q", i, got, w)
		}
	}
}
