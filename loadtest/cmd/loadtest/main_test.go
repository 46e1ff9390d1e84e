package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/server"
)

// TestMain lets the test binary act as a server process: the commands

// start os.Executable in serve mode, and in a test that is this binary.

func TestMain(m *testing.M) {
	server.MaybeServe()
	os.Exit(m.Run())
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

// TestRunOutput runs the command briefly: with stdout not a terminal it

// prints the table and no progress line; with -quiet, nothing.

// TestReportCommand saves a run as JSON and renders it again with "loadtest

// report", alone and compared with itself.

// TestServeFaultFlags checks that serve refuses malformed fault flags.

// TestFaultsCommand runs "loadtest faults" end to end: help, a bad flag,

// and one short cell written as JSON.

// TestFaultsHTML runs "loadtest faults -scenario outage" over raw in short

// form with -html and -json, then checks the page (the matrix, the chart

// with the breaker's transitions, the figures), the JSON timeline, and

// that "loadtest report" renders the same page from the JSON.

// TestHerdMain runs the command itself, small, with its output files.

// "loadtest -h" lists the overload experiment, and "loadtest overload -h"
// explains it.
func TestOverloadUsage(t *testing.T) {
	var out, errs strings.Builder
	if code := command([]string{"-h"}, &out, &errs); code != 0 || !strings.Contains(out.String(), "overload") {
		t.Fatalf("loadtest -h = %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := command([]string{"overload", "-h"}, &out, &errs); code != 0 || !strings.Contains(errs.String(), "Load shedding, shown") || !strings.Contains(errs.String(), "-max-calls") {
		t.Fatalf("loadtest overload -h = %d:\n%s", code, errs.String())
	}
	for _, args := range [][]string{{"overload", "-shedding", "maybe"}, {"overload", "-backend", "8"}, {"overload", "-load", "x"}, {"overload", "-transports", "pigeon"}} {
		errs.Reset()
		if code := command(args, &out, &errs); code != 2 {
			t.Errorf("%v = %d, want 2 (%s)", args, code, errs.String())
		}
	}
}

// "loadtest -h" lists every experiment of the labs: its own commands and
// the cluster's.
func TestUsageListsExperiments(t *testing.T) {
	var out, errs strings.Builder
	if code := command([]string{"-h"}, &out, &errs); code != 0 {
		t.Fatalf("loadtest -h = %d", code)
	}
	for _, want := range []string{"\n  herd ", "\n  overload ", "\n  faults ", "\n  timeouts ", "cluster directory", "cluster clocks", "cluster fencing"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("loadtest -h does not list %q:\n%s", strings.TrimSpace(want), out.String())
		}
	}
}
