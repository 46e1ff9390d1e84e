package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
)

// TestMain lets the test binary act as a server process: StartChild
// starts os.Executable in serve mode, and in a test that is this binary.
func TestMain(m *testing.M) {
	MaybeServe()
	os.Exit(m.Run())
}

// TestChild starts a server process, reads its accounting and its
// metrics, calls it and stops it.
func TestChild(t *testing.T) {
	h, err := StartChild(Config{Transport: "raw", Accounts: 10, IgnoreKeys: true, Fault: fault.Spec{Kind: fault.CrashAfterApply, Nth: 1000}, Metrics: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tr, _ := registry.Lookup("raw")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tr.Dial(ctx, h.Addr(), transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Balance(ctx, ledger.SeedAccount(10)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	st, err := h.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUNs() <= 0 || st.BytesIn == 0 || st.BytesOut == 0 || (RSSAvailable && st.RSSBytes == 0) {
		t.Errorf("server accounting: %+v", st)
	}
	resp, err := http.Get("http://" + h.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`igbank_server_calls_total{code="ok",op="balance",transport="raw"} 1`,
		fmt.Sprintf(`igbank_server_bytes_total{direction="in",transport="raw"} %d`, st.BytesIn),
	} {
		if !strings.Contains(string(body), "\n"+want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if err := h.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestInProcessIgnoreKeys runs an in-process server with the faults of
// Config: without keys a repeated deposit is applied twice, and an
// in-process crash-after-apply (a Die that closes the server instead of
// killing the test) applies the deposit and never answers it.
func TestInProcessIgnoreKeys(t *testing.T) {
	tr, _ := registry.Lookup("raw")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := StartInProcess(Config{Transport: "raw", Accounts: 2, Store: "memory", IgnoreKeys: true})
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
	srv, err := startStore(tr, Config{Addr: "127.0.0.1:0", Accounts: 2, Store: "memory",
		Fault: fault.Spec{Kind: fault.CrashAfterApply, Nth: 2},
		Die:   func() { close(died) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c2, err := tr.Dial(ctx, srv.Addr(), transport.ClientConfig{})
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

// TestChildLimitAndStatements starts a server process with a connection
// limit of 2 and seeded statements: its statements carry the seeded
// rows, and a third connection reclaims the oldest one that never sent a
// request.
func TestChildLimitAndStatements(t *testing.T) {
	month := bank.MonthOf(time.Now())
	h, err := StartChild(Config{Transport: "raw", Accounts: 10, MaxConns: 2, Statements: &Statements{Month: month, Accounts: 3, Rows: 120}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var d net.Dialer
	silent, err := d.DialContext(ctx, "tcp", h.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	time.Sleep(50 * time.Millisecond) // the server has accepted it
	tr, _ := registry.Lookup("raw")
	c, err := tr.Dial(ctx, h.Addr(), transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, want := range []int{120, 120, 120, 0} {
		st, err := c.Statement(ctx, bank.StatementRequest{Account: ledger.SeedAccount(i + 1), Month: month, PageSize: bank.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Transactions) != want {
			t.Errorf("account %d: %d transactions, want %d", i+1, len(st.Transactions), want)
		}
	}
	// A second client: the server holds two connections already, so it
	// reclaims the silent one.
	c2, err := tr.Dial(ctx, h.Addr(), transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Balance(ctx, ledger.SeedAccount(1)); err != nil {
		t.Fatal(err)
	}
	silent.SetReadDeadline(time.Now().Add(2 * time.Second)) // before the first-request timeout (5 s) would close it
	if _, err := silent.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the silent connection beyond the limit of 2: read %v, want it closed", err)
	}
}
