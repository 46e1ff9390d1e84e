package registry_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
)

// TestLookup finds every registered name, the reference included, and
// nothing else.
func TestLookup(t *testing.T) {
	names := registry.Names(true)
	if names[0] != registry.ReferenceName || !slices.Equal(names[1:], registry.Names(false)) || len(names) != len(registry.Variants())+1 {
		t.Fatalf("names %v", names)
	}
	for _, n := range names {
		if v, ok := registry.Lookup(n); !ok || v.Name != n {
			t.Errorf("Lookup(%q) = %q, %v", n, v.Name, ok)
		}
	}
	if _, ok := registry.Lookup("carrier-pigeon"); ok {
		t.Error("Lookup found an unregistered transport")
	}
}

// TestReference serves the ping-pong and calls it from several callers
// at once: every call is answered, with zero values.
func TestReference(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := registry.Reference.NewServer(nil, transport.ServerConfig{})
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := registry.Reference.Dial(ctx, l.Addr().String(), transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var err error
			for range 50 {
				if _, err = c.Deposit(ctx, bank.DepositRequest{}); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if b, err := registry.Noop.Balance(ctx, "000000001"); b != 0 || err != nil {
		t.Errorf("Noop.Balance = %v, %v", b, err)
	}
}
