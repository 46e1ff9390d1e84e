package loadtest

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/loadtest/registry"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// TestCrashRandom kills the server on each deposit with probability 0.2
// (a seed per restart), three times, over raw, with and without keys.
func TestCrashRandom(t *testing.T) {
	tr, _ := registry.Lookup("raw")
	for _, ignoreKeys := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := RunCrash(ctx, CrashConfig{
			Transport:  tr,
			Store:      "sqlite:" + filepath.Join(t.TempDir(), "bank.db"),
			Fault:      fault.Spec{Kind: fault.CrashAfterApply, P: 0.2, Seed: 1},
			Crashes:    3,
			IgnoreKeys: ignoreKeys,
			Accounts:   3,
			Clients:    2,
			Deposits:   10,
		})
		if err != nil {
			t.Fatal(err)
		}
		a := res.Audit
		t.Logf("keys ignored %v: %d starts, %d SIGKILLs, %d attempts: %+v", ignoreKeys, res.Starts, res.Deaths, res.Attempts, a)
		if res.Deaths != 3 {
			t.Errorf("%d SIGKILLs, want 3", res.Deaths)
		}
		if ignoreKeys != (a.Duplicated > 0) || ignoreKeys == a.OK || a.Acknowledged != a.Attempted {
			t.Errorf("keys ignored %v: %+v", ignoreKeys, a)
		}
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
		if code := ServeMain(args, strings.NewReader(""), &out, &errs); code != 2 {
			t.Errorf("serve %v = %d, want 2 (%s)", args, code, errs.String())
		}
	}
}

// TestInProcessIgnoreKeys runs an in-process server with the faults of
// serverOpts: without keys a repeated deposit is applied twice, and an
// in-process crash-after-apply (a Die that closes the server instead of
// killing the test) applies the deposit and never answers it.
func TestInProcessIgnoreKeys(t *testing.T) {
	tr, _ := registry.Lookup("raw")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := startInProcess(tr, 2, "memory", serverOpts{ignoreKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c, err := tr.Dial(ctx, h.Addr(), transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 5, IdempotencyKey: "same"}
	r1, err1 := c.Deposit(ctx, req)
	r2, err2 := c.Deposit(ctx, req)
	if err1 != nil || err2 != nil || r2.Replayed || r1.TransactionID == r2.TransactionID {
		t.Fatalf("same key twice without keys: %+v %v, %+v %v; want two transactions", r1, err1, r2, err2)
	}

	died := make(chan struct{})
	var srv *localServer
	srv, err = startStoreServer(tr, "127.0.0.1:0", "memory", 2, serverOpts{
		fault: fault.Spec{Kind: fault.CrashAfterApply, Nth: 2},
		die:   func() { close(died) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close(io.Discard)
	c2, err := tr.Dial(ctx, srv.addr, transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 5, IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	_, err = c2.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 5, IdempotencyKey: "k2"})
	if bank.CodeOf(err) != bank.Unavailable {
		t.Fatalf("deposit on which the server dies: %v, want unavailable", err)
	}
	<-died
}
