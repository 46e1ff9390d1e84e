package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/faults"
	"github.com/igbank/igbank/loadtest/internal/benchtest"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/report"
	"github.com/igbank/igbank/loadtest/server"
	"golang.org/x/net/html"
)

// TestMain lets the test binary act as a server process: the commands
// start os.Executable in serve mode, and in a test that is this binary.
func TestMain(m *testing.M) {
	server.MaybeServe()
	os.Exit(m.Run())
}

func TestRunFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"-transports", "carrier-pigeon"}, `unknown transport "carrier-pigeon"`},
		{[]string{"-transports", "tcp-pingpong"}, "unknown transport"},
		{[]string{"-rounds", "0"}, "rounds 0"},
		{[]string{"-duration", "0s"}, "duration 0s"},
		{[]string{"-warmup", "-1s"}, "warm-up"},
		{[]string{"-concurrency", "0"}, "concurrency 0"},
		{[]string{"-concurrency", "8,x"}, `"x" is not a whole number`},
		{[]string{"-connections", "-1"}, "connections -1"},
		{[]string{"-rate", "fast"}, `"fast" is not a number`},
		{[]string{"-rate", "-5"}, "rate -5"},
		{[]string{"-rate", "100", "-concurrency", "1,2"}, "give one -concurrency"},
		{[]string{"-mix", "90/10"}, "balance/statement/deposit"},
		{[]string{"-mix", "0/0/0"}, "add up to zero"},
		{[]string{"-zipf", "0.5"}, "zipf 0.5"},
		{[]string{"-accounts", "0"}, "accounts 0"},
		{[]string{"-month", "2026-13"}, "month"},
		{[]string{"-amount", "0"}, "amount 0"},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{"-duration", "soon"}, "invalid value"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-addr", "127.0.0.1:1"}, "-addr needs exactly one transport"},
	} {
		var out, errb bytes.Buffer
		code := command(append([]string{"run"}, tc.args...), &out, &errb)
		if code != 2 {
			t.Errorf("run %v: exit %d, want 2 (stderr %q)", tc.args, code, errb.String())
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("run %v: stderr %q does not say %q", tc.args, errb.String(), tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("run %v: printed %q on stdout", tc.args, out.String())
		}
	}
}

func TestCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: loadtest COMMAND"},
		{[]string{"fly"}, 2, `unknown command "fly"`},
		{[]string{"report"}, 2, "want one saved run"},
		{[]string{"report", "a.json", "b.json", "c.json"}, 2, "want one saved run"},
		{[]string{"report", "/nonexistent/run.json"}, 1, "no such file"},
		{[]string{"serve", "-transport", "nope"}, 2, `unknown transport "nope"`},
		{[]string{"serve", "-transport", "raw", "-cpus", "x"}, 2, "not a CPU number"},
		{[]string{"serve", "-transport", "raw", "-accounts", "0"}, 2, "out of range"},
	} {
		var out, errb bytes.Buffer
		if code := command(tc.args, &out, &errb); code != tc.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, tc.code, errb.String())
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: stderr %q does not say %q", tc.args, errb.String(), tc.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"run", "-h"}, {"report", "-h"}} {
		var out, errb bytes.Buffer
		if code := command(args, &out, &errb); code != 0 {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
		if !strings.Contains(errb.String(), "usage: loadtest") {
			t.Errorf("%v: no usage in %q", args, errb.String())
		}
	}
}

func TestParseRunFlagsDefaults(t *testing.T) {
	c, _, err := parseRunFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Transports) != len(registry.Variants()) || !c.Reference || c.InProcess || c.Rounds != 3 {
		t.Errorf("defaults: %+v", c)
	}
	c, _, err = parseRunFlags([]string{"-concurrency", "1,8,32", "-mix", "80/10/10", "-zipf", "1.2", "-connections", "4", "-no-reference"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Concurrency) != 3 || c.Concurrency[2] != 32 || c.Workload.Mix != (bench.Mix{80, 10, 10}) || c.Workload.Zipf != 1.2 || c.Connections != 4 || c.Reference {
		t.Errorf("parsed: %+v", c)
	}
}

// TestRunOutput runs the command briefly: with stdout not a terminal it
// prints the table and no progress line; with -quiet, nothing.
func TestRunOutput(t *testing.T) {
	args := []string{"run", "-inprocess", "-transports", registry.Names(false)[0], "-rounds", "1", "-warmup", "50ms", "-duration", "100ms", "-concurrency", "2"}
	var out, errb bytes.Buffer
	if code := command(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "calls/s [min–max]") || strings.Contains(out.String(), "\r") {
		t.Errorf("want the table and no progress line, got:\n%q", out.String())
	}
	out.Reset()
	if code := command(append(args, "-quiet"), &out, &errb); code != 0 || out.Len() != 0 {
		t.Errorf("-quiet: exit %d, printed %q", code, out.String())
	}
}

// TestReportCommand saves a run as JSON and renders it again with "loadtest
// report", alone and compared with itself.
func TestReportCommand(t *testing.T) {
	rep := benchtest.SampleReport(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	if err := writeFile(path, rep, report.WriteJSON); err != nil {
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

// TestServeFaultFlags checks that serve refuses malformed fault flags.
func TestServeFaultFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-transport", "raw", "-idempotency", "maybe"},
		{"-transport", "raw", "-fault", "crash-sometimes"},
		{"-transport", "raw", "-fault", "crash-after-apply:0"},
	} {
		var out, errs strings.Builder
		if code := serveMain(args, strings.NewReader(""), &out, &errs); code != 2 {
			t.Errorf("serve %v = %d, want 2 (%s)", args, code, errs.String())
		}
	}
}

// TestFaultsCommand runs "loadtest faults" end to end: help, a bad flag,
// and one short cell written as JSON.
func TestFaultsCommand(t *testing.T) {
	var out, errs strings.Builder
	if code := command([]string{"faults", "-h"}, &out, &errs); code != 0 {
		t.Fatalf("faults -h: exit %d", code)
	}
	for _, s := range faults.Scenarios {
		if !strings.Contains(errs.String(), "\n  "+s.Name+"\n") {
			t.Errorf("faults -h does not explain %s", s.Name)
		}
	}
	if code := command([]string{"faults", "-scenario", "nosuch"}, &out, &errs); code != 2 {
		t.Errorf("unknown scenario: exit %d, want 2", code)
	}
	path := filepath.Join(t.TempDir(), "m.json")
	out.Reset()
	code := command([]string{"faults", "-scenario", "refused", "-transports", "raw", "-deposits", "10", "-duration", "200ms", "-json", path}, &out, &errs)
	if code != 0 {
		t.Fatalf("faults refused over raw: exit %d\n%s", code, out.String())
	}
	var got []faults.Result
	b, err := os.ReadFile(path)
	if err == nil {
		got, err = faults.Decode(b)
	}
	if err != nil || len(got) != 1 || !got[0].Pass || got[0].Audit.Attempted != 10 {
		t.Fatalf("JSON matrix: %v %+v", err, got)
	}
	if !strings.Contains(out.String(), "refused") || !strings.Contains(out.String(), "ok") {
		t.Errorf("matrix table:\n%s", out.String())
	}
}

// TestFaultsHTML runs "loadtest faults -scenario outage" over raw in short
// form with -html and -json, then checks the page (the matrix, the chart
// with the breaker's transitions, the figures), the JSON timeline, and
// that "loadtest report" renders the same page from the JSON.
func TestFaultsHTML(t *testing.T) {
	dir := t.TempDir()
	page, js := filepath.Join(dir, "f.html"), filepath.Join(dir, "f.json")
	var out, errs strings.Builder
	code := command([]string{"faults", "-scenario", "outage", "-transports", "raw", "-deposits", "40", "-workers", "4", "-accounts", "4",
		"-duration", "600ms", "-attempt-timeout", "150ms", "-call-timeout", "3s", "-html", page, "-json", js}, &out, &errs)
	if code != 0 {
		t.Fatalf("faults outage over raw: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	t.Log(out.String())
	for _, want := range []string{"attempts/call in fault", "outage/raw: breaker opened at"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("terminal output lacks %q", want)
		}
	}

	var got []faults.Result
	b, err := os.ReadFile(js)
	if err == nil {
		got, err = faults.Decode(b)
	}
	if err != nil || len(got) != 1 {
		t.Fatalf("JSON matrix: %v, %d cells", err, len(got))
	}
	r := got[0]
	if len(r.Timeline) != r.Audit.Attempted || r.Audit.Attempted != 40 {
		t.Errorf("timeline of %d calls, %d deposits attempted, want 40 of each", len(r.Timeline), r.Audit.Attempted)
	}
	sum := 0
	for _, c := range r.Timeline {
		if c.Attempts < 1 {
			t.Errorf("call %+v made no attempt", c)
		}
		sum += c.Attempts
	}
	if int64(sum) != r.Attempts {
		t.Errorf("the timeline counts %d attempts, the retry layer %d", sum, r.Attempts)
	}
	if r.AttemptsPerCall <= 0 || r.AttemptsPerCallInFault <= 0 || r.FaultCalls == 0 || len(r.FaultWindows) != 1 {
		t.Errorf("attempts per call %v, in fault %v, fault calls %d, windows %v", r.AttemptsPerCall, r.AttemptsPerCallInFault, r.FaultCalls, r.FaultWindows)
	}
	if r.Breaker == nil || r.Breaker.Opens == 0 {
		t.Fatalf("the breaker never opened: %+v", r.Transitions)
	}

	hb, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(hb)
	if _, err := html.Parse(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="matrix"`, `<td class="ok"`, "attempts/call in fault", `id="outage"`, "<svg", "closed → open",
		"breaker opened at", "half-open probes", "fail-fast latency", "attempts per call during the outage"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(doc, "<script") || strings.Contains(doc, " src=") || strings.Contains(doc, " href=") {
		t.Error("the page is not self-contained")
	}

	again := filepath.Join(dir, "again.html")
	out.Reset()
	if code := command([]string{"report", "-html", again, js}, &out, &errs); code != 0 {
		t.Fatalf("loadtest report of the fault JSON: exit %d: %s", code, errs.String())
	}
	if b, err := os.ReadFile(again); err != nil || string(b) != doc {
		t.Errorf("report renders another page from the JSON (%v)", err)
	}
	if !strings.Contains(out.String(), "exactly-once") {
		t.Errorf("report table:\n%s", out.String())
	}
	if f, err := readSaved(filepath.Join("testdata", "nosuch.json")); f.kind != "" || err == nil {
		t.Errorf("readSaved of a missing file: kind %q, err %v", f.kind, err)
	}
}

// TestHerdMain runs the command itself, small, with its output files.
func TestHerdMain(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := command([]string{"herd", "-clients", "20", "-outage", "100ms", "-jitter", "none,equal", "-html", filepath.Join(dir, "h.html"), "-json", filepath.Join(dir, "h.json")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "equal") {
		t.Errorf("summary lacks the equal run:\n%s", out.String())
	}
	for _, f := range []string{"h.html", "h.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if code := command([]string{"herd", "-jitter", "sideways"}, &out, &errb); code != 2 {
		t.Errorf("bad -jitter: exit %d, want 2", code)
	}
}
