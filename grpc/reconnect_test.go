package grpcbank_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	grpcbank "github.com/igbank/igbank/grpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
)

// serveAt serves a fresh bank on addr (127.0.0.1:0 for a free port, or
// the address a stopped server listened on) and returns the address it
// listens on and a stop that takes it away mid-test.
func serveAt(t *testing.T, addr string) (string, func()) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return l.Addr().String(), banktest.ServeListener(t, grpcbank.NewServer(bank.NewService(ledger.NewMemory(10))), l)
}

// failRedial takes the server at addr away and waits until c has tried to
// dial it again and failed: c's channel is in TRANSIENT_FAILURE, in its
// connection backoff. Then it starts a server on the same address.
func failRedial(t *testing.T, c *grpcbank.Client, addr string, stop func()) {
	t.Helper()
	ctx := testCtx(t)
	if _, err := c.Balance(ctx, ledger.SeedAccount(1)); err != nil {
		t.Fatalf("first call: %v", err)
	}
	stop() // closes the listener and the client's connection
	conn := c.Conn()
	for st := conn.GetState(); st != connectivity.TransientFailure; st = conn.GetState() {
		if st == connectivity.Idle {
			conn.Connect() // the connection is gone: redial, to a closed port
		}
		if !conn.WaitForStateChange(ctx, st) {
			t.Fatalf("channel still %v, want a failed redial (TRANSIENT_FAILURE)", st)
		}
	}
	serveAt(t, addr)
}

// callsUntilSuccess calls Balance every 20 ms until one succeeds, and
// returns how many calls that took; at most max calls. Every failure must
// be Unavailable (the channel failing the call fast).
func callsUntilSuccess(t *testing.T, c *grpcbank.Client, max int) (int, bool) {
	t.Helper()
	for n := 1; n <= max; n++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := c.Balance(ctx, ledger.SeedAccount(1))
		cancel()
		if err == nil {
			return n, true
		}
		if !errors.Is(err, bank.ErrUnavailable) {
			t.Fatalf("call %d after the server came back: %v, want success or unavailable", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return max, false
}

// After a failed redial the client reaches a server that is back within a
// few calls, instead of failing every call at once for gRPC's default
// connection backoff (1 s ± 20%: at least 40 calls 20 ms apart). The
// shared retry layer above the client does the backing off; see
// DefaultConnectParams. 25 calls (over half a second) is generous for a
// 20 ms first backoff and still well short of the default's 40.
func TestRedialsPromptly(t *testing.T) {
	addr, stop := serveAt(t, "127.0.0.1:0")
	c, err := grpcbank.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	failRedial(t, c, addr, stop)
	n, ok := callsUntilSuccess(t, c, 25)
	if !ok {
		t.Fatalf("no call succeeded in %d tries 20 ms apart after the server came back: the channel is still in a long connection backoff", n)
	}
	t.Logf("first success on call %d after the server came back", n)
}

// WithDialOptions still replaces the connection backoff: with a minute of
// it, calls keep failing fast although the server is back.
func TestDialOptionsOverrideConnectParams(t *testing.T) {
	addr, stop := serveAt(t, "127.0.0.1:0")
	slow := grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: time.Minute, Multiplier: 1, MaxDelay: time.Minute},
		MinConnectTimeout: 3 * time.Second}
	c, err := grpcbank.Dial(context.Background(), addr, grpcbank.WithDialOptions(grpc.WithConnectParams(slow)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	failRedial(t, c, addr, stop)
	if n, ok := callsUntilSuccess(t, c, 5); ok {
		t.Fatalf("call %d succeeded during a minute of connection backoff: WithDialOptions did not override DefaultConnectParams", n)
	}
}
