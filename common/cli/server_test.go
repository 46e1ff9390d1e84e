package cli_test

import (
	"context"
	"flag"
	"path/filepath"
	"slices"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

func TestServerFlagsStore(t *testing.T) {
	spec := "sqlite:" + filepath.Join(t.TempDir(), "bank.db")
	open := func() (bank.Bank, func()) {
		var f cli.ServerFlags
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		f.Register(fs, transport.Descriptor{DefaultAddr: "127.0.0.1:0"})
		if err := fs.Parse([]string{"-accounts", "5", "-store", spec}); err != nil {
			t.Fatal(err)
		}
		b, c, err := f.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return b, func() { c.Close() }
	}
	b, done := open()
	ctx := context.Background()
	if _, err := b.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(5), Amount: 42, IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	done()
	b, done = open()
	defer done()
	if got, err := b.Balance(ctx, ledger.SeedAccount(5)); err != nil || got != ledger.SeedBalance(5)+42 {
		t.Fatalf("balance after reopening = %d, %v", got, err)
	}
	// The default is the memory store.
	var f cli.ServerFlags
	f.Register(flag.NewFlagSet("x", flag.ContinueOnError), transport.Descriptor{DefaultAddr: "127.0.0.1:0"})
	if f.Store != "memory" {
		t.Fatalf("default -store = %q", f.Store)
	}
	if _, err := f.Bank(); err != nil {
		t.Fatal(err)
	}
}

func TestServerFlagsMaxConns(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
		ok   bool
	}{{nil, 0, true}, {[]string{"-max-conns", "10000"}, 10000, true}, {[]string{"-max-conns", "-1"}, 0, false}} {
		var f cli.ServerFlags
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		f.Register(fs, transport.Descriptor{DefaultAddr: "127.0.0.1:0"})
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.ServerConfig()
		if (err == nil) != tc.ok || cfg.MaxConns != tc.want {
			t.Errorf("%v: MaxConns %d, error %v; want %d, ok %v", tc.args, cfg.MaxConns, err, tc.want, tc.ok)
		}
	}
}

// -max-calls is off by default; -call-queue defaults to twice it.
func TestServerFlagsMaxCalls(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		calls, queue int
		ok           bool
	}{
		{nil, 0, 0, true},
		{[]string{"-max-calls", "8"}, 8, 16, true},
		{[]string{"-max-calls", "8", "-call-queue", "0"}, 8, 0, true},
		{[]string{"-max-calls", "8", "-call-queue", "3"}, 8, 3, true},
		{[]string{"-max-calls", "-1"}, 0, 0, false},
		{[]string{"-max-calls", "4", "-call-queue", "-2"}, 0, 0, false},
	} {
		var f cli.ServerFlags
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		f.Register(fs, transport.Descriptor{DefaultAddr: "127.0.0.1:0"})
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		c, err := f.Shed.Config(nil)
		if (err == nil) != tc.ok || c.MaxCalls != tc.calls || c.Queue != tc.queue {
			t.Errorf("%v: %+v, error %v; want %d calls, queue %d, ok %v", tc.args, c, err, tc.calls, tc.queue, tc.ok)
		}
	}
}

// -cors-origins exists only where the descriptor serves browsers, and
// takes exact origins only.
func TestServerFlagsCORSOrigins(t *testing.T) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	var plain cli.ServerFlags
	plain.Register(fs, transport.Descriptor{DefaultAddr: "127.0.0.1:0"})
	if fs.Lookup("cors-origins") != nil {
		t.Error("-cors-origins registered for a transport without Descriptor.CORS")
	}
	for _, tc := range []struct {
		arg  string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"http://127.0.0.1:8080", []string{"http://127.0.0.1:8080"}, true},
		{"https://bank.example, http://[::1]:3000", []string{"https://bank.example", "http://[::1]:3000"}, true},
		{"*", nil, false},
		{"https://*.example", nil, false},
		{"bank.example", nil, false},
		{"https://bank.example/", nil, false},
		{"https://bank.example/app", nil, false},
		{"ftp://bank.example", nil, false},
		{"https://Bank.example", nil, false},
		{"null", nil, false},
	} {
		var f cli.ServerFlags
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		f.Register(fs, transport.Descriptor{DefaultAddr: "127.0.0.1:0", CORS: true})
		if err := fs.Parse([]string{"-cors-origins", tc.arg}); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.ServerConfig()
		if (err == nil) != tc.ok || !slices.Equal(cfg.CORSOrigins, tc.want) {
			t.Errorf("-cors-origins %q: %q, error %v; want %q, ok %v", tc.arg, cfg.CORSOrigins, err, tc.want, tc.ok)
		}
	}
}

// -metrics serves plaintext: on a loopback address only, unless -insecure.
func TestServerFlagsMetrics(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-metrics", "127.0.0.1:9100"}, true},
		{[]string{"-metrics", "[::1]:9100"}, true},
		{[]string{"-metrics", "0.0.0.0:9100"}, false},
		{[]string{"-metrics", ":9100"}, false},
		{[]string{"-metrics", ":9100", "-insecure"}, true},
	} {
		var f cli.ServerFlags
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		f.Register(fs, transport.Descriptor{DefaultAddr: "127.0.0.1:0"})
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ServerConfig(); (err == nil) != tc.ok {
			t.Errorf("%v: error %v, want ok %v", tc.args, err, tc.ok)
		}
	}
}
