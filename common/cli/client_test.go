package cli_test

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

type nopCloser struct{ bank.Bank }

func (nopCloser) Close() error { return nil }

func run(t *testing.T, b bank.Bank, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	dial := func(context.Context, string) (transport.Client, error) { return nopCloser{b}, nil }
	code = cli.RunClient(args, &out, &errb, "127.0.0.1:1", dial)
	return code, out.String(), errb.String()
}

func TestRunClient(t *testing.T) {
	b := bank.NewService(ledger.NewMemory(10))
	acc := string(ledger.SeedAccount(3))

	code, out, _ := run(t, b, "balance", acc)
	if code != 0 || !strings.Contains(out, ledger.SeedBalance(3).String()) {
		t.Fatalf("balance: exit %d, output %q", code, out)
	}
	// Flags after the arguments, as DESIGN.md writes the deposit command.
	code, out, _ = run(t, b, "deposit", acc, "150", "-key", "cli-key-1")
	if code != 0 || !strings.Contains(out, "replayed false") || !strings.Contains(out, "key cli-key-1") {
		t.Fatalf("deposit: exit %d, output %q", code, out)
	}
	code, out, _ = run(t, b, "-key", "cli-key-1", "deposit", acc, "150")
	if code != 0 || !strings.Contains(out, "replayed true") {
		t.Fatalf("replayed deposit: exit %d, output %q", code, out)
	}
	code, out, _ = run(t, b, "statement", acc, string(bank.MonthOf(time.Now())))
	if code != 0 || !strings.Contains(out, "key cli-key-1") || !strings.Contains(out, "1.50") {
		t.Fatalf("statement: exit %d, output %q", code, out)
	}
	// Without a month: the current one, so no command need name a date.
	code, out2, _ := run(t, b, "statement", acc)
	if code != 0 || out2 != out {
		t.Fatalf("statement without a month: exit %d, output %q; want %q", code, out2, out)
	}
}

func TestRunClientErrors(t *testing.T) {
	b := bank.NewService(ledger.NewMemory(10))
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, cli.ExitUsage},
		{[]string{"balance"}, cli.ExitUsage},
		{[]string{"withdraw", "000000001", "5"}, cli.ExitUsage},
		{[]string{"deposit", "000000001", "1.50"}, cli.ExitUsage},
		{[]string{"-nosuchflag", "balance", "000000001"}, cli.ExitUsage},
		{[]string{"balance", "000000011"}, int(bank.NotFound)},
		{[]string{"balance", "12"}, int(bank.InvalidArgument)},
		{[]string{"deposit", "000000001", "-5"}, int(bank.InvalidArgument)},
		{[]string{"statement", "000000001", "2026-13"}, int(bank.InvalidArgument)},
	} {
		code, _, stderr := run(t, b, tc.args...)
		if code != tc.want || stderr == "" {
			t.Errorf("client %q: exit %d (stderr %q), want %d with a message", tc.args, code, stderr, tc.want)
		}
	}
}

func TestRunClientTransportFlags(t *testing.T) {
	b := bank.NewService(ledger.NewMemory(10))
	var out, errb bytes.Buffer
	var variant string
	dialed := ""
	dial := func(context.Context, string) (transport.Client, error) {
		dialed = variant // flags are parsed before dial
		return nopCloser{b}, nil
	}
	flags := cli.WithClientFlags(func(fs *flag.FlagSet) { fs.StringVar(&variant, "variant", "plain", "transport variant") })
	if code := cli.RunClient([]string{"-variant", "fancy", "balance", "000000001"}, &out, &errb, "127.0.0.1:1", dial, flags); code != 0 || dialed != "fancy" {
		t.Fatalf("exit %d, dialed with variant %q, want 0 and fancy; stderr %q", code, dialed, errb.String())
	}
	if code := cli.RunClient([]string{"-nosuch", "x", "balance", "000000001"}, &out, &errb, "127.0.0.1:1", dial, flags); code != cli.ExitUsage {
		t.Fatalf("unknown flag: exit %d, want %d", code, cli.ExitUsage)
	}
}

// flaky fails its first calls with a transient error, then passes them on.
type flaky struct {
	bank.Bank
	failures int
	calls    int
}

func (f *flaky) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	f.calls++
	if f.calls <= f.failures {
		return 0, bank.Errorf(bank.Unavailable, "down for a moment")
	}
	return f.Bank.Balance(ctx, acc)
}

// TestRunClientRetries: the reference client calls through the shared
// layers, so a transient failure is retried (and said on stderr); with
// -retry=false it is one attempt and the failure is the answer.
func TestRunClientRetries(t *testing.T) {
	acc := string(ledger.SeedAccount(2))
	f := &flaky{Bank: bank.NewService(ledger.NewMemory(10)), failures: 2}
	code, out, stderr := run(t, f, "balance", acc)
	if code != 0 || !strings.Contains(out, ledger.SeedBalance(2).String()) || f.calls != 3 {
		t.Fatalf("with retries: exit %d after %d calls, output %q, stderr %q; want success on the third call", code, f.calls, out, stderr)
	}
	if !strings.Contains(stderr, "retrying in") {
		t.Errorf("the retries were not reported: stderr %q", stderr)
	}
	f = &flaky{Bank: bank.NewService(ledger.NewMemory(10)), failures: 2}
	code, _, _ = run(t, f, "-retry=false", "balance", acc)
	if code != int(bank.Unavailable) || f.calls != 1 {
		t.Fatalf("-retry=false: exit %d after %d calls, want %d after one", code, f.calls, bank.Unavailable)
	}
}
