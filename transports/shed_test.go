package transports_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/shed"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// carriesRetryAfter lists the variants whose wire carries a refusal's
// retry-after hint (bank.RetryAfter): gRPC and Connect as a
// google.rpc.RetryInfo detail, REST as Retry-After and retry_after_ms.
// The others' error encodings (a status byte and a message, net/rpc's
// error string, a Thrift exception) have no field for it, and adding one
// is a protocol change: their clients see unavailable without a hint.
var carriesRetryAfter = []string{"grpc", "connect", "connect-grpc", "connect-grpcweb", "connect-h1", "rest"}

// held is a bank whose balance calls wait until release is closed.
type held struct {
	bank.Bank
	started chan struct{}
	release chan struct{}
}

func (h *held) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	h.started <- struct{}{}
	select {
	case <-h.release:
	case <-ctx.Done():
		return 0, bank.FromContext(ctx, ctx.Err())
	}
	return h.Bank.Balance(ctx, acc)
}

// TestShedRefusal: through a real server of every variant on loopback,
// behind admission control of one call in progress and no queue, a call
// made while another runs is refused at once as bank.ErrUnavailable, with
// the retry-after hint where the transport carries one and without where
// it does not; the call in progress is not disturbed.
func TestShedRefusal(t *testing.T) {
	for _, v := range transports.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			h := &held{Bank: bank.NewService(ledger.NewMemory(10)), started: make(chan struct{}, 1), release: make(chan struct{})}
			addr := banktest.Serve(t, v.NewServer(shed.New(h, shed.Config{MaxCalls: 1}), transport.ServerConfig{}))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dial := func() transport.Client {
				c, err := v.Dial(ctx, addr, transport.ClientConfig{Conns: 1})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				return c
			}
			busy, other := dial(), dial()
			acc := ledger.SeedAccount(1)
			first := make(chan error, 1)
			go func() {
				_, err := busy.Balance(ctx, acc)
				first <- err
			}()
			select {
			case <-h.started:
			case <-ctx.Done():
				t.Fatal("the first call never reached the bank")
			}
			_, err := other.Balance(ctx, acc)
			if !errors.Is(err, bank.ErrUnavailable) {
				close(h.release)
				t.Fatalf("a call over the limit: %v, want unavailable", err)
			}
			d, ok := bank.RetryAfter(err)
			switch carries := slices.Contains(carriesRetryAfter, v.Name); {
			case carries && (!ok || d <= 0):
				t.Errorf("refusal %v came without its retry-after hint", err)
			case carries && v.Name == "rest" && d >= time.Second:
				t.Errorf("hint %v: the millisecond hint was lost to the header's whole seconds", d)
			case !carries && ok:
				t.Errorf("refusal carries a hint of %v: update carriesRetryAfter and the docs", d)
			}
			close(h.release)
			if err := <-first; err != nil {
				t.Fatalf("the call in progress: %v", err)
			}
		})
	}
}
