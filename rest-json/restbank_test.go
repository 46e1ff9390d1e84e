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
	"strings"
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

// Beyond WithMaxConns, an idle keep-alive connection is reclaimed for a
// new one, which is served at once; with every connection busy, a new
// one is answered 503 problem+json unavailable at once. (Before the
// admission, a client beyond the limit waited in the listen backlog until
// a connection closed.)
func TestMaxConns(t *testing.T) {
	hold := &blocking{Bank: bank.NewService(ledger.NewMemory(10)), entered: make(chan struct{}, 1), release: make(chan struct{})}
	addr := banktest.Serve(t, restbank.NewServer(hold, restbank.WithMaxConns(1)))
	request := func(nc net.Conn, acc ...string) (*http.Response, error) {
		path := "/v1/accounts/000000001/balance"
		if len(acc) > 0 {
			path = "/v1/accounts/" + acc[0] + "/balance"
		}
		if _, err := io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return nil, err
		}
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		return http.ReadResponse(bufio.NewReader(nc), nil)
	}
	dial := func() net.Conn {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	first := dial()
	if resp, err := request(first); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first connection: %v %v", resp, err)
	}
	second := dial()
	if resp, err := request(second); err != nil || resp.StatusCode != 200 {
		t.Fatalf("second connection, the first idle: %v %v", resp, err)
	}
	first.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := first.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle connection not reclaimed: %v", err)
	}

	busy := dial()
	go request(busy, string(ledger.SeedAccount(2))) // held until release
	<-hold.entered
	resp, err := request(dial())
	close(hold.release)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("connection to a server full of busy ones: %v %v; want 503 problem+json", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "unavailable") {
		t.Fatalf("503 body %s, want the code unavailable", body)
	}
}

// blocking is a bank whose Balance calls of account 2 wait for release.
type blocking struct {
	bank.Bank
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if acc != ledger.SeedAccount(2) {
		return b.Bank.Balance(ctx, acc)
	}
	select {
	case b.entered <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return b.Bank.Balance(ctx, acc)
}

// TestAdmission runs the admission section (a flood of idle connections,
// the first-request deadline, a server full of busy connections: 503).
func TestAdmission(t *testing.T) {
	banktest.RunAdmission(t, restbank.Transport.Variants[0])
}

// TestSlowReader: a client that never reads a large reply loses its
// connection at the server's write timeout (http.Server.WriteTimeout).
func TestSlowReader(t *testing.T) {
	banktest.RunSlowReader(t, restbank.Transport.Variants[0], 2000)
}

// The health check SERVING, then not serving once Shutdown has begun.
func TestHealth(t *testing.T) { banktest.RunHealth(t, restbank.Transport.Variants[0]) }

// TestHiddenCause: the cause of an internal error is logged, not sent
// (banktest.RunHiddenCause).
func TestHiddenCause(t *testing.T) { banktest.RunHiddenCause(t, restbank.Transport.Variants[0]) }
