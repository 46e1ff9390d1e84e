package banktest

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// Transport is the Factory of a real transport: it serves srv with
// newServer on a fresh loopback listener and connects to it with dial. The
// server is shut down and the client closed when the test ends.
func Transport(newServer transport.NewServerFunc, dial transport.DialFunc) Factory {
	return func(t testing.TB, srv bank.Bank) bank.Bank {
		t.Helper()
		addr := Serve(t, newServer(srv))
		c, err := dial(context.Background(), addr)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
}

// Serve starts s on a fresh listener on 127.0.0.1 and returns its address;
// the test's cleanup shuts it down and checks that Serve returned nil.
func Serve(t testing.TB, s transport.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ServeListener(t, s, l)
	return l.Addr().String()
}

// ServeListener starts s on l, a listener the caller made (a
// fault.Listener, say). The test's cleanup shuts s down and checks that
// Serve returned nil; the returned stop does the same at once, for tests
// that take the server away mid-test. Calling stop again does nothing.
func ServeListener(t testing.TB, s transport.Server, l net.Listener) (stop func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Shutdown: %v", err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve returned %v after Shutdown, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Serve did not return within 5s of Shutdown")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
