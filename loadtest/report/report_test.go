package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/internal/benchtest"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/report"
)

func TestWriteTable(t *testing.T) {
	rep := benchtest.SampleReport(t)
	var b bytes.Buffer
	if err := report.WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"closed loop, 1,4 callers", "concurrency 1 —", "concurrency 4 —", "calls/s [min–max]", registry.ReferenceName, rep.Config.Transports[0], "p99.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestWriteTableLimits checks that a report taken where some figures
// cannot be read says so: a line per limit, "n/a" for the server's RSS.
func TestWriteTableLimits(t *testing.T) {
	rep := *benchtest.SampleReport(t)
	if runtime.GOOS == "linux" && len(rep.Env.Limits) != 0 {
		t.Errorf("limits on Linux: %q", rep.Env.Limits)
	}
	rep.Env.Limits = []string{"CPU pinning: unavailable on plan9", "server RSS: unavailable on plan9"}
	rep.Results = append([]*bench.Result(nil), rep.Results...)
	res := *rep.Results[len(rep.Results)-1]
	smp := *res.Samples[0]
	smp.ServerOwnProc, smp.ServerRSSBytes = true, 0
	res.Samples = []*bench.Sample{&smp}
	res.Summary.ServerRSSMiB = bench.Stat{}
	rep.Results[len(rep.Results)-1] = &res
	var b bytes.Buffer
	if err := report.WriteTable(&b, &rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range append(rep.Env.Limits, "n/a") {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	rep := benchtest.SampleReport(t)
	var b bytes.Buffer
	if err := report.WriteCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	measured := 0
	for _, r := range rep.Results {
		if len(r.Samples) > 0 {
			measured++
		}
	}
	if len(rows) != 1+measured {
		t.Fatalf("%d rows, want a header and %d", len(rows), measured)
	}
	if strings.Join(rows[0], ",") != strings.Join(report.CSVHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	for _, row := range rows[1:] {
		if v, err := strconv.ParseFloat(row[5], 64); err != nil || v <= 0 {
			t.Errorf("row %v: throughput %q", row, row[5])
		}
	}
}

func TestWriteBench(t *testing.T) {
	rep := benchtest.SampleReport(t)
	var b bytes.Buffer
	if err := report.WriteBench(&b, rep); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		n++
		f := strings.Fields(line)
		// name, iterations, then value-unit pairs
		if len(f) < 4 || len(f)%2 != 0 || !strings.Contains(f[0], "/transport=") {
			t.Errorf("not a benchmark line: %q", line)
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			t.Errorf("iterations %q", f[1])
		}
		for i := 2; i < len(f); i += 2 {
			if _, err := strconv.ParseFloat(f[i], 64); err != nil {
				t.Errorf("value %q in %q", f[i], line)
			}
		}
	}
	want := 0
	for _, r := range rep.Results {
		for _, s := range r.Samples {
			if s.Calls > 0 {
				want++
			}
		}
	}
	if n != want || n == 0 {
		t.Errorf("%d benchmark lines, want one per round with calls (%d)", n, want)
	}
}

// TestWriteHTML checks that the page parses, has a table, has an inline
// SVG chart in every chart section, and loads nothing from outside.
func TestWriteHTML(t *testing.T) {
	rep := benchtest.SampleReport(t)
	var b bytes.Buffer
	if err := report.WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	benchtest.CheckHTML(t, b.Bytes(), []string{"throughput", "latency", "cpu", "bytes"})
}

// roundTrip saves r as JSON and reads it back.
func roundTrip(t *testing.T, r *bench.Report) *bench.Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.json")
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := report.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func TestReportRoundTripKeepsConfig(t *testing.T) {
	rep := benchtest.SampleReport(t)
	back := roundTrip(t, rep)
	a, _ := json.Marshal(rep.Config)
	b, _ := json.Marshal(back.Config)
	if !bytes.Equal(a, b) {
		t.Errorf("config changed in the round trip:\n%s\n%s", a, b)
	}
}
