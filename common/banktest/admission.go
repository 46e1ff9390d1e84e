package banktest

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// AdmissionLimit is the connection limit the admission section runs its
// servers with.
const AdmissionLimit = 16

// RunAdmission checks, through a real server of v on loopback, the
// connection admission every transport shares (package admit):
//
//   - IdleFlood: with AdmissionLimit connections open that send nothing,
//     a new well-behaved client is answered (an idle one makes room);
//   - FirstRequest: a connection that sends nothing, or one byte and no
//     more, is closed after Timeouts.FirstRequest; a client that dialed
//     and calls only after that is served at its first try;
//   - FullOfBusy: with every connection running a call, a new client is
//     refused at once and sees bank.ErrUnavailable; the calls in progress
//     are not disturbed.
//
// It asserts what a client notices, not how long it took: a client that
// was not answered fails on its deadline, never on a timer of the test.
func RunAdmission(t *testing.T, v transport.Variant) {
	t.Run("IdleFlood", func(t *testing.T) {
		addr := Serve(t, v.NewServer(bank.NewService(ledger.NewMemory(10)), transport.ServerConfig{MaxConns: AdmissionLimit}))
		idle := make([]net.Conn, AdmissionLimit)
		for i := range idle {
			idle[i] = rawDial(t, addr)
		}
		time.Sleep(50 * time.Millisecond) // let the server accept them all
		c := dialVariant(t, v, addr)
		wantAnswered(t, c)
		closed := 0
		for _, nc := range idle {
			if isClosed(nc, 50*time.Millisecond) {
				closed++
			}
		}
		if closed == 0 {
			t.Fatal("no idle connection was reclaimed for the new client")
		}
	})

	t.Run("FirstRequest", func(t *testing.T) {
		addr := Serve(t, v.NewServer(bank.NewService(ledger.NewMemory(10)),
			transport.ServerConfig{MaxConns: AdmissionLimit, Timeouts: transport.Timeouts{FirstRequest: time.Second}}))
		late := dialVariant(t, v, addr) // a client that may connect now and call later
		silent := rawDial(t, addr)
		partial := rawDial(t, addr)
		if _, err := partial.Write([]byte{0}); err != nil {
			t.Fatal(err)
		}
		c := dialVariant(t, v, addr)
		wantAnswered(t, c)
		if !isClosed(silent, 5*time.Second) {
			t.Error("a connection that sent nothing was not closed after FirstRequest")
		}
		if !isClosed(partial, 5*time.Second) {
			t.Error("a connection that sent one byte of a request was not closed after FirstRequest")
		}
		wantAnswered(t, c) // the deadline is a new connection's only
		time.Sleep(time.Second)
		// Whatever late's Dial connected was closed unused: its first
		// call dials anew and is served.
		wantAnswered(t, late)
	})

	t.Run("FullOfBusy", func(t *testing.T) {
		const limit = 4
		hold := &holding{entered: make(chan struct{}, limit), release: make(chan struct{})}
		hold.Bank = bank.NewService(ledger.NewMemory(10))
		addr := Serve(t, v.NewServer(hold, transport.ServerConfig{MaxConns: limit}))
		var wg sync.WaitGroup
		errs := make(chan error, limit)
		for range limit {
			c := dialVariant(t, v, addr)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				_, err := c.Balance(ctx, ledger.SeedAccount(1))
				errs <- err
			}()
			select {
			case <-hold.entered:
			case <-time.After(10 * time.Second):
				close(hold.release)
				t.Fatal("a call did not reach the server")
			}
		}
		c := dialVariant(t, v, addr)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.Balance(ctx, ledger.SeedAccount(1))
		deadlineHit := ctx.Err() != nil
		cancel()
		close(hold.release)
		wg.Wait()
		close(errs)
		if !errors.Is(err, bank.ErrUnavailable) || deadlineHit {
			t.Errorf("call to a server full of busy connections: %v; want unavailable before the deadline", err)
		}
		for err := range errs {
			if err != nil {
				t.Errorf("a call in progress when the server was full: %v", err)
			}
		}
		wantServed(t, c) // room again: the client recovers
	})
}

// holding is a bank whose Balance calls wait for release.
type holding struct {
	bank.Bank
	entered chan struct{}
	release chan struct{}
}

func (h *holding) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	h.entered <- struct{}{}
	select {
	case <-h.release:
	case <-ctx.Done():
		return 0, bank.FromContext(ctx, ctx.Err())
	}
	return h.Bank.Balance(ctx, acc)
}

func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

func dialVariant(t *testing.T, v transport.Variant, addr string) transport.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := v.Dial(ctx, addr, transport.ClientConfig{Conns: 1})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantAnswered checks that c's next call is answered, within a generous
// deadline, at the first try.
func wantAnswered(t *testing.T, c bank.Bank) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if m, err := c.Balance(ctx, ledger.SeedAccount(1)); err != nil || m != ledger.SeedBalance(1) {
		t.Fatalf("a well-behaved client was not answered: %v, %v", m, err)
	}
}

// wantServed checks that c is served again, within a generous deadline.
func wantServed(t *testing.T, c bank.Bank) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	// A call may meet the connection it was sent on closed by the
	// admission (an idle one reclaimed), or a client still backing off
	// from a refused connection (gRPC's): the client's next call dials
	// anew, as its retry layer would.
	for ctx.Err() == nil {
		var m bank.Money
		if m, err = c.Balance(ctx, ledger.SeedAccount(1)); err == nil {
			if m != ledger.SeedBalance(1) {
				t.Fatalf("balance %v, want %v", m, ledger.SeedBalance(1))
			}
			return
		}
		if !errors.Is(err, bank.ErrUnavailable) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("a well-behaved client was not served: %v", err)
}

// isClosed reports whether the server closed nc within wait.
func isClosed(nc net.Conn, wait time.Duration) bool {
	nc.SetReadDeadline(time.Now().Add(wait))
	var b [512]byte
	for {
		_, err := nc.Read(b[:])
		if err == nil {
			continue // a goodbye, a refusal: read on to the close
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}
