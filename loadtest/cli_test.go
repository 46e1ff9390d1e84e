package loadtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/internal/benchtest"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/report"
)

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
		code := Main(append([]string{"run"}, tc.args...), &out, &errb)
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
		if code := Main(tc.args, &out, &errb); code != tc.code {
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
		if code := Main(args, &out, &errb); code != 0 {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
		if !strings.Contains(errb.String(), "usage: loadtest") {
			t.Errorf("%v: no usage in %q", args, errb.String())
		}
	}
}

func TestParseRunFlagsDefaults(t *testing.T) {
	c, _, err := ParseRunFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Transports) != len(registry.Variants()) || !c.Reference || c.InProcess || c.Rounds != 3 {
		t.Errorf("defaults: %+v", c)
	}
	c, _, err = ParseRunFlags([]string{"-concurrency", "1,8,32", "-mix", "80/10/10", "-zipf", "1.2", "-connections", "4", "-no-reference"}, &bytes.Buffer{})
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
	if code := Main(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "calls/s [min–max]") || strings.Contains(out.String(), "\r") {
		t.Errorf("want the table and no progress line, got:\n%q", out.String())
	}
	out.Reset()
	if code := Main(append(args, "-quiet"), &out, &errb); code != 0 || out.Len() != 0 {
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
	if code := Main([]string{"report", "-csv", csvPath, "-html", htmlPath, "-bench", benchPath, path}, &out, &errb); code != 0 {
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
	if code := Main([]string{"report", "-html", cmpHTML, path, path}, &out, &errb); code != 0 {
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
