package banktest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// RunHealth checks, through a real server of v on loopback, the health
// check every transport offers (transport.HealthChecker):
//
//   - a server that serves answers SERVING;
//   - once its Shutdown has begun, while a call in progress keeps it from
//     finishing, a new probe is told it is not serving: NOT_SERVING where
//     the server can still answer it, else bank.ErrUnavailable (its
//     listener is closed); never SERVING, never another error;
//   - the call in progress still completes, and Shutdown returns nil.
//
// Whether Shutdown has begun cannot be seen from outside but by a probe,
// so the probe is repeated (on a fresh client each time) until it stops
// saying SERVING, within a generous deadline; what it then says is the
// assertion.
func RunHealth(t *testing.T, v transport.Variant) {
	h := &holding{Bank: bank.NewService(ledger.NewMemory(10)), entered: make(chan struct{}, 1), release: make(chan struct{})}
	srv := v.NewServer(h, transport.ServerConfig{})
	addr := Serve(t, srv)
	probe := func() (transport.HealthStatus, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := v.Dial(ctx, addr, transport.ClientConfig{Conns: 1})
		if err != nil {
			return transport.HealthUnknown, err
		}
		defer c.Close()
		st, ok, err := transport.Health(ctx, c)
		if !ok {
			t.Fatalf("the %s client has no health check (transport.HealthChecker)", v.Name)
		}
		return st, err
	}
	if st, err := probe(); err != nil || st != transport.Serving {
		t.Fatalf("health of a serving server: %v, %v; want SERVING", st, err)
	}

	held := dialVariant(t, v, addr)
	callDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := held.Balance(ctx, ledger.SeedAccount(1))
		callDone <- err
	}()
	<-h.entered // the call is in the server

	shutDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shutDone <- srv.Shutdown(ctx)
	}()
	var (
		st  transport.HealthStatus
		err error
	)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err = probe()
		if err != nil || st != transport.Serving || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	switch {
	case err == nil && st == transport.Serving:
		t.Fatal("health still SERVING 10 s after Shutdown began")
	case err == nil && st != transport.NotServing:
		t.Fatalf("health during shutdown: %v, want NOT_SERVING", st)
	case err != nil && !errors.Is(err, bank.ErrUnavailable):
		t.Fatalf("health during shutdown: error %v (code %v), want NOT_SERVING or unavailable", err, bank.CodeOf(err))
	}
	select {
	case err := <-shutDone:
		t.Fatalf("Shutdown returned %v while a call was in progress", err)
	default:
	}
	close(h.release)
	if err := <-callDone; err != nil {
		t.Fatalf("the call in progress during shutdown: %v", err)
	}
	if err := <-shutDone; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
