package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/registry"
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
		{[]string{"-network", "moon"}, "network"},
		{[]string{"-network", "custom:latency=-1ms"}, "network"},
		{[]string{"-statement-rows", "10,x"}, `"x" is not a whole number`},
		{[]string{"-statement-rows", "20000"}, "statement rows 20000"},
		{[]string{"-statement-rows", "10", "-store", "sqlite:x.db"}, "in-memory ledger only"},
		{[]string{"-max-conns", "-1"}, "max conns -1"},
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
	if len(c.Concurrency) != 3 || c.Concurrency[2] != 32 || c.Workload.Mix != (bench.Mix{80, 10, 10}) || c.Workload.Zipf != 1.2 || len(c.Connections) != 1 || c.Connections[0] != 4 || c.Reference {
		t.Errorf("parsed: %+v", c)
	}
	c, o, err := parseRunFlags([]string{"-network", "lan,wan", "-statement-rows", "0,1000", "-max-conns", "10100", "-allow-errors"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Networks, ",") != "lan,wan" || len(c.StatementRows) != 2 || c.StatementRows[1] != 1000 || c.MaxConns != 10100 || !o.allowErrors {
		t.Errorf("parsed: %+v, allow errors %v", c, o.allowErrors)
	}
}

// TestRunExitStatus drives a server that never answers: the point fails,
// the command says which calls failed and exits 1, or 0 with
// -allow-errors.
func TestRunExitStatus(t *testing.T) {
	defer func(g time.Duration) { bench.CutOffGrace = g }(bench.CutOffGrace)
	bench.CutOffGrace = 200 * time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	args := []string{"run", "-addr", l.Addr().String(), "-transports", "netrpc", "-no-reference", "-rounds", "1", "-warmup", "50ms", "-duration", "100ms", "-concurrency", "2"}
	for _, tc := range []struct {
		extra []string
		code  int
	}{{nil, 1}, {[]string{"-allow-errors"}, 0}} {
		var out, errb bytes.Buffer
		if code := command(append(args, tc.extra...), &out, &errb); code != tc.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.extra, code, tc.code, errb.String())
		}
		if !strings.Contains(errb.String(), "2 of 2 calls failed (deadline_exceeded:2; 2 stuck)") || !strings.Contains(out.String(), "FAILED") {
			t.Errorf("%v: stderr %q, table:\n%s", tc.extra, errb.String(), out.String())
		}
	}
}

func TestRunOutput(t *testing.T) {
	args := []string{"run", "-inprocess", "-transports", registry.Names(false)[0], "-rounds", "1", "-warmup", "50ms", "-duration", "100ms", "-concurrency", "2"}
	var out, errb bytes.Buffer
	if code := command(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "network: loopback (no emulation)") {
		t.Errorf("the table does not say which network it ran on:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "calls/s [min–max]") || strings.Contains(out.String(), "\r") {
		t.Errorf("want the table and no progress line, got:\n%q", out.String())
	}
	out.Reset()
	if code := command(append(args, "-quiet"), &out, &errb); code != 0 || out.Len() != 0 {
		t.Errorf("-quiet: exit %d, printed %q", code, out.String())
	}
}
