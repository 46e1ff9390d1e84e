package main

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/netem"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/loadtest/server"
)

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

// TestServeArgs checks that the flags a server process is started with
// (server.Config.Args, for a reader of the process list) say its Config:
// parsed as "loadtest serve" flags, they give it back.
func TestServeArgs(t *testing.T) {
	// -otlp's default is the environment's.
	t.Setenv(traces.EnvTracesEndpoint, "")
	t.Setenv(traces.EnvEndpoint, "")
	want := server.Config{Transport: "grpc", Addr: "127.0.0.1:7003", Accounts: 12, Store: "sqlite:/tmp/x.db", CPUs: []int{0, 2},
		Control: true, IgnoreKeys: true, Fault: fault.Spec{Kind: fault.CrashAfterApply, P: 0.25, Seed: 7},
		Security: cli.ServerSecurity{TLSCert: "s.pem", TLSKey: "s-key.pem", ClientCA: "ca.pem", TokenKey: "token.pub"},
		Log:      logs.Flags{Format: "json", Level: "debug"}, OTLP: "http://127.0.0.1:4318"}
	got, err := parseServeFlags(want.Args(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("serve %q parses to\n%+v, want\n%+v", want.Args(), got, want)
	}
	want = server.Config{Transport: "raw", Addr: "127.0.0.1:0", Accounts: 500, Store: "memory", MaxConns: 10100, Network: netem.WAN, Metrics: "127.0.0.1:9100",
		Statements: &server.Statements{Month: "2026-01", Accounts: 100, Rows: 1000}, Log: logs.Flags{Format: "text", Level: "info"},
		Shed: cli.ShedFlags{MaxCalls: 8, Queue: 3}, Backend: server.Backend{Slots: 8, Time: 2 * time.Millisecond}}
	if got, err = parseServeFlags(want.Args(), io.Discard); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("serve %q parses to\n%+v, want\n%+v", want.Args(), got, want)
	}
}
