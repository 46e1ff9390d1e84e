package metrics_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/metrics"
	"github.com/igbank/igbank/common/resilience"
)

// scrape returns the exposition text of the endpoint e, fetched over
// its socket as Prometheus would.
func scrape(t *testing.T, e *metrics.Endpoint) string {
	t.Helper()
	resp, err := http.Get("http://" + e.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s, %v", resp.Status, err)
	}
	return string(body)
}

func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("metrics lack the line %q", l)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
}

func TestServerCallsAndWire(t *testing.T) {
	var w metrics.Wire
	e, m, err := metrics.ServeServer("127.0.0.1:0", "tcp", &w, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	b := m.Bank("tcp", bank.NewService(ledger.NewMemory(10)))
	ctx := context.Background()
	acc := ledger.SeedAccount(1)
	b.Balance(ctx, acc)
	b.Balance(ctx, acc)
	b.Balance(ctx, "999999999")
	b.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 5}) // no key
	b.Statement(ctx, bank.StatementRequest{Account: acc, Month: "2026-01"})

	// The wire: one connection, 5 bytes in, 3 out, then closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wl := w.Listener(l)
	defer wl.Close()
	go func() {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return
		}
		c.Write([]byte("hello"))
		io.ReadFull(c, make([]byte, 3))
		c.Close()
	}()
	c, err := wl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(c, make([]byte, 5))
	c.Write([]byte("bye"))
	if open, n := w.Conns(); open != 1 || n != 1 {
		t.Errorf("conns open %d, accepted %d; want 1, 1", open, n)
	}
	c.Close()
	c.Close() // a second Close does not count twice

	wantLines(t, scrape(t, e),
		`igbank_server_calls_total{code="ok",op="balance",transport="tcp"} 2`,
		`igbank_server_calls_total{code="not_found",op="balance",transport="tcp"} 1`,
		`igbank_server_calls_total{code="invalid_argument",op="deposit",transport="tcp"} 1`,
		`igbank_server_calls_total{code="ok",op="statement",transport="tcp"} 1`,
		`igbank_server_call_duration_seconds_count{op="balance",transport="tcp"} 3`,
		`igbank_server_calls_in_flight{op="balance",transport="tcp"} 0`,
		`igbank_server_connections_open{transport="tcp"} 0`,
		`igbank_server_connections_total{transport="tcp"} 1`,
		`igbank_server_bytes_total{direction="in",transport="tcp"} 5`,
		`igbank_server_bytes_total{direction="out",transport="tcp"} 3`,
	)
}

// The client layers' hooks count attempts by code, retries, give-ups by
// reason and breaker transitions; Client.Bank counts one logical call
// per call, however many attempts it took.
func TestClientLayers(t *testing.T) {
	reg := metrics.NewRegistry()
	m := metrics.NewClient(reg)
	e, err := metrics.Listen("127.0.0.1:0", reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f := &banktest.Failing{Bank: bank.NewService(ledger.NewMemory(10))}
	f.Set(bank.ErrUnavailable)
	b := m.Bank("grpc", resilience.Wrap(f,
		resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 3, InitialBackoff: 1, MaxBackoff: 1}),
		resilience.WithoutBudget(),
		resilience.WithBreaker(resilience.BreakerSettings{ConsecutiveFailures: 3}),
		resilience.WithHooks(m.Hooks("grpc"))))
	ctx := context.Background()
	acc := ledger.SeedAccount(1)
	if _, err := b.Balance(ctx, acc); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("Balance = %v, want unavailable", err)
	}
	// The breaker is open now: the next call fails fast.
	b.Balance(ctx, acc)
	text := scrape(t, e)
	wantLines(t, text,
		`igbank_client_calls_total{code="unavailable",op="balance",transport="grpc"} 2`,
		`igbank_client_attempts_total{code="unavailable",op="balance",transport="grpc"} 4`,
		`igbank_client_retries_total{op="balance",transport="grpc"} 2`,
		`igbank_client_giveups_total{op="balance",reason="attempts",transport="grpc"} 1`,
		`igbank_client_giveups_total{op="balance",reason="not_retryable",transport="grpc"} 1`,
		`igbank_client_breaker_transitions_total{to="open",transport="grpc"} 1`,
		`igbank_client_breakers_open{transport="grpc"} 1`,
	)
}
