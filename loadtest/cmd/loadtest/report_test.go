package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/faults"
	"github.com/igbank/igbank/loadtest/internal/benchtest"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/report"
)

func TestReportCommand(t *testing.T) {
	rep := benchtest.SampleReport(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	if err := writeOut(path, func(w io.Writer) error { return report.WriteJSON(w, rep) }); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	csvPath, htmlPath, benchPath := filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.html"), filepath.Join(dir, "r.txt")
	if code := command([]string{"report", "-csv", csvPath, "-html", htmlPath, "-bench", benchPath, path}, &out, &errb); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errb.String())
	}
	var want bytes.Buffer
	report.WriteTable(&want, rep)
	if out.String() != want.String() {
		t.Errorf("report's table differs from the run's:\n%s\nwant:\n%s", out.String(), want.String())
	}
	for _, p := range []string{csvPath, htmlPath, benchPath} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}

	out.Reset()
	cmpHTML := filepath.Join(dir, "cmp.html")
	if code := command([]string{"report", "-html", cmpHTML, path, path}, &out, &errb); code != 0 {
		t.Fatalf("report A B: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "calls/s A") || !strings.Contains(out.String(), "+0.0%") {
		t.Errorf("comparison:\n%s", out.String())
	}
	page, err := os.ReadFile(cmpHTML)
	if err != nil {
		t.Fatal(err)
	}
	benchtest.CheckHTML(t, page, []string{"throughput", "latency", "cpu", "bytes"})
	if !strings.Contains(string(page), registry.ReferenceName+" (B)") {
		t.Error("comparison page does not tag the runs")
	}
}

// TestReportFaultsCompare runs the lab twice, keys on and keys off (the
// workshop's pair, without budget or breaker so that every lost response
// is retried), and compares the two saved runs: "loadtest report on.json
// off.json" once failed to read a fault run as a benchmark run; now it
// sets the cells side by side, in the terminal and in HTML.
func TestReportFaultsCompare(t *testing.T) {
	dir := t.TempDir()
	on, off := filepath.Join(dir, "on.json"), filepath.Join(dir, "off.json")
	short := []string{"faults", "-scenario", "lost-response,outage", "-transports", "raw", "-deposits", "40", "-workers", "4", "-accounts", "4",
		"-duration", "600ms", "-attempt-timeout", "150ms", "-call-timeout", "3s", "-budget=false", "-breaker=false", "-quiet"}
	var out, errb bytes.Buffer
	if code := command(append(short, "-json", on), &out, &errb); code != 0 {
		t.Fatalf("faults, keys on: exit %d: %s", code, errb.String())
	}
	// Keys off, the deposits doubled are what the experiment sets out to
	// show: the cell passes, and the run exits 0.
	if code := command(append(short, "-idempotency", "off", "-json", off), &out, &errb); code != 0 {
		t.Fatalf("faults, keys off: exit %d, want 0 (deposits doubled, as expected): %s", code, errb.String())
	}
	out.Reset()
	page := filepath.Join(dir, "cmp.html")
	if code := command([]string{"report", "-html", page, on, off}, &out, &errb); code != 0 {
		t.Fatalf("report on.json off.json: exit %d: %s", code, errb.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{"A: " + on + " (idempotency keys on, retry budget off, breaker off)", "B: " + off + " (idempotency keys off"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("comparison lacks %q", want)
		}
	}
	var row []string
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 3 && f[0] == "lost-response" {
			row = f
		}
	}
	if len(row) < 5 || row[1] != "raw" || row[2] != "ok" || row[3] != "dup" {
		t.Fatalf("lost-response row %q: want raw, ok in A, dup N, expected in B", row)
	}
	if dup := row[len(row)-4]; !strings.HasPrefix(dup, "0|") || strings.HasSuffix(dup, "|0") {
		t.Errorf("dup A|B %q: want none with keys, some without", dup)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	benchtest.CheckHTML(t, b, []string{"outage"})
	for _, want := range []string{`<div class="pair">`, "<h3>A: " + on + "</h3>", "<h3>B: " + off + "</h3>", `<td class="ok"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// A timeline per cell and run: lost-response and outage, A and B.
	if n := strings.Count(string(b), "<svg"); n != 4 {
		t.Errorf("%d timelines, want one per cell of each run (4)", n)
	}
	for _, want := range []string{"<summary>lost-response</summary>", "duplicates found, as expected with keys off", "applied twice or more"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if code := command([]string{"report", "-csv", filepath.Join(dir, "x.csv"), on, off}, &out, &errb); code != 2 {
		t.Errorf("report -csv of fault runs: exit %d, want 2", code)
	}
}

// TestReportKinds renders files saved before they had a kind (a
// benchmark run with "version": 1, a fault run as a bare array) and a
// herd run, and refuses to compare two runs of different kinds.
func TestReportKinds(t *testing.T) {
	dir := t.TempDir()
	rep := benchtest.SampleReport(t)
	var js bytes.Buffer
	if err := report.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["kind"] != bench.Kind || m["format"] != float64(bench.Format) {
		t.Errorf("saved run: kind %v, format %v", m["kind"], m["format"])
	}
	delete(m, "kind")
	delete(m, "format")
	m["version"] = 1
	old := filepath.Join(dir, "old-run.json")
	writeJSON(t, old, m)
	var out, errb bytes.Buffer
	if code := command([]string{"report", old}, &out, &errb); code != 0 {
		t.Fatalf("report of a format 1 run: exit %d: %s", code, errb.String())
	}
	var want bytes.Buffer
	report.WriteTable(&want, rep)
	if out.String() != want.String() {
		t.Errorf("format 1 run renders otherwise:\n%s\nwant:\n%s", out.String(), want.String())
	}

	oldFaults := filepath.Join(dir, "old-faults.json")
	writeJSON(t, oldFaults, []faults.Result{{Scenario: "refused", Transport: "raw", Pass: true}})
	out.Reset()
	if code := command([]string{"report", oldFaults}, &out, &errb); code != 0 || !strings.Contains(out.String(), "exactly-once") {
		t.Errorf("report of a format 1 fault run: exit %d:\n%s%s", code, out.String(), errb.String())
	}

	h := filepath.Join(dir, "h.json")
	if code := command([]string{"herd", "-clients", "10", "-outage", "50ms", "-jitter", "full", "-json", h}, &out, &errb); code != 0 {
		t.Fatalf("herd: exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := command([]string{"report", "-html", filepath.Join(dir, "h.html"), h}, &out, &errb); code != 0 || !strings.Contains(out.String(), "peak after recovery") {
		t.Errorf("report of a herd run: exit %d:\n%s%s", code, out.String(), errb.String())
	}

	errb.Reset()
	if code := command([]string{"report", old, oldFaults}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "compare two of a kind") {
		t.Errorf("report of a benchmark and a fault run: exit %d: %s", code, errb.String())
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}
