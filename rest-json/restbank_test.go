package restbank_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	restbank "github.com/igbank/igbank/rest-json"
)

func newServer(b bank.Bank) transport.Server { return restbank.NewServer(b) }

func dial(ctx context.Context, addr string) (transport.Client, error) {
	return restbank.Dial(ctx, addr)
}

// The whole conformance suite, over a real server on loopback.
func TestConformance(t *testing.T) {
	banktest.Run(t, banktest.Transport(newServer, dial))
}

// deadlineBank records the deadline of the last call's context.
type deadlineBank struct {
	bank.Bank
	mu sync.Mutex
	dl time.Time
	ok bool
}

func (d *deadlineBank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	d.mu.Lock()
	d.dl, d.ok = ctx.Deadline()
	d.mu.Unlock()
	return d.Bank.Balance(ctx, acc)
}

// The caller's deadline reaches the server's bank through Request-Timeout.
func TestDeadlinePropagates(t *testing.T) {
	d := &deadlineBank{Bank: bank.NewService(ledger.NewMemory(10))}
	c, err := restbank.Dial(context.Background(), banktest.Serve(t, restbank.NewServer(d)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Balance(context.Background(), ledger.SeedAccount(1)); err != nil {
		t.Fatal(err)
	}
	if d.ok {
		t.Fatalf("a call without a deadline arrived with one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	want, _ := ctx.Deadline()
	if _, err := c.Balance(ctx, ledger.SeedAccount(1)); err != nil {
		t.Fatal(err)
	}
	// The server starts the remaining time when the request arrives, so
	// its deadline is a little later than the caller's; a second either
	// way tells a propagated deadline from the absence of one on a slow,
	// shared machine.
	if !d.ok || d.dl.After(want.Add(time.Second)) || d.dl.Before(want.Add(-time.Second)) {
		t.Fatalf("server deadline %v (set %v), want about %v", d.dl, d.ok, want)
	}
}

type panicBank struct{ bank.Bank }

func (panicBank) Balance(context.Context, bank.AccountNo) (bank.Money, error) { panic("boom") }

// A panicking handler is a 500 Internal for that call, not a dropped
// connection or a dead server.
func TestPanicIsInternal(t *testing.T) {
	c, err := restbank.Dial(context.Background(), banktest.Serve(t, restbank.NewServer(panicBank{bank.NewService(ledger.NewMemory(10))},
		restbank.WithLogger(slog.New(slog.DiscardHandler)))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 2 {
		if _, err := c.Balance(context.Background(), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrInternal) {
			t.Fatalf("Balance on a panicking bank: %v, want Internal", err)
		}
	}
	if _, err := c.Statement(context.Background(), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); err != nil {
		t.Fatalf("Statement after the panics: %v", err)
	}
}

// The Go client's bearer token, over TLS, names the caller to
// auth.Authorize, and 401/403 arrive typed.
func TestBearerToken(t *testing.T) {
	f, p := startSecureServer(t, true)
	acc := ledger.SeedAccount(1)
	for _, c := range []struct {
		token string
		read  error
		dep   error
	}{
		{"", bank.ErrUnauthenticated, bank.ErrUnauthenticated},
		{"wrong", bank.ErrUnauthenticated, bank.ErrUnauthenticated},
		{token(t, p, 2), bank.ErrPermissionDenied, bank.ErrPermissionDenied},
		{token(t, p, 1), nil, nil},
		{p.Token(t, auth.Teller, time.Hour), nil, nil},
	} {
		opts := []restbank.ClientOption{restbank.WithClientTLS(p.ClientTLS(t, ""))}
		if c.token != "" {
			opts = append(opts, restbank.WithToken(c.token))
		}
		cl, err := restbank.Dial(context.Background(), f.addr, opts...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.Balance(context.Background(), acc)
		if !errors.Is(err, c.read) {
			t.Fatalf("Balance: %v, want %v", err, c.read)
		}
		_, err = cl.Deposit(context.Background(), bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: "tok"})
		if !errors.Is(err, c.dep) {
			t.Fatalf("Deposit: %v, want %v", err, c.dep)
		}
		cl.Close()
	}
	// A token is never sent in the clear.
	if _, err := restbank.Dial(context.Background(), f.addr, restbank.WithToken(token(t, p, 1))); !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("Dial with a token and no TLS: %v, want invalid argument", err)
	}
}

// WithMaxConns holds a client beyond the limit until a connection closes.
func TestMaxConns(t *testing.T) {
	addr := banktest.Serve(t, restbank.NewServer(bank.NewService(ledger.NewMemory(10)), restbank.WithMaxConns(1)))
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	get := "GET /v1/accounts/000000001/balance HTTP/1.1\r\nHost: x\r\n\r\n"
	br := bufio.NewReader(first)
	if _, err := io.WriteString(first, get); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first connection: %v %v", resp, err)
	}
	second, err := net.Dial("tcp", addr) // accepted by the kernel, not served
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := io.WriteString(second, get); err != nil {
		t.Fatal(err)
	}
	second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := second.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection was served while the first was open: %d, %v", n, err)
	}
	first.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(second), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("second connection after the first closed: %v %v", resp, err)
	}
}
