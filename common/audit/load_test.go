package audit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// flakyClient is an in-process client of a memory ledger that, after ok
// acknowledged deposits, applies the next deposit but loses its answer
// (Unavailable), rejects key "bad-1" with InvalidArgument without
// applying it, and answers everything else with Unavailable without
// applying it; after down such calls it cancels the load.
type flakyClient struct {
	l      *ledger.Memory
	cancel context.CancelFunc
	ok     int
	down   int

	mu     sync.Mutex
	acked  int
	failed int
}

func (c *flakyClient) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	return c.l.Balance(ctx, acc)
}

func (c *flakyClient) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	return bank.NewService(c.l).Statement(ctx, req)
}

func (c *flakyClient) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if req.IdempotencyKey == "bad-1" {
		return bank.DepositReceipt{}, &bank.Error{Code: bank.InvalidArgument, Message: "rejected by the test"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.acked < c.ok:
		c.acked++
		return c.l.Deposit(ctx, req)
	case c.failed == 0:
		if _, err := c.l.Deposit(ctx, req); err != nil {
			return bank.DepositReceipt{}, err
		}
	}
	c.failed++
	if c.failed == c.down {
		c.cancel()
	}
	return bank.DepositReceipt{}, &bank.Error{Code: bank.Unavailable, Message: "answer lost by the test"}
}

func (c *flakyClient) Close() error { return nil }

// A load that ends without every answer records what its clients learned
// about each deposit sent: acknowledged with the receipt, unknown when the
// context ended between retries (including one applied whose answer was
// lost), failed on a definite error; audit.Check accepts the ledger.
func TestDepositLoadOutcomes(t *testing.T) {
	for _, tc := range []struct {
		prefix      string
		wantFailed  int
		wantUnknown bool
	}{
		{"lost", 0, true}, // the server goes away: unknown outcomes
		{"bad", 1, false}, // worker 0's second deposit is rejected
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			const accounts, workers, perWorker = 5, 4, 10
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			l := ledger.NewMemory(accounts)
			c := &flakyClient{l: l, cancel: cancel, ok: 12, down: 40}
			if !tc.wantUnknown {
				c.ok = workers * perWorker
			}
			dial := func(context.Context) (transport.Client, error) { return c, nil }
			res, err := audit.Load{Dial: dial, Resilience: fastRetry(), Prefix: tc.prefix, Workers: workers,
				Deposits: workers * perWorker, Accounts: accounts, StopOnError: true}.Run(ctx)
			if err == nil {
				t.Fatal("the load ended without an error")
			}
			deposits := res.Deposits
			t.Logf("load: %v; %d acknowledged, %d attempts", err, res.Acknowledged, res.Attempts)
			var acked, failed, unknown int
			for _, d := range deposits {
				switch d.Outcome {
				case audit.Acknowledged:
					acked++
					if d.Receipt.TransactionID == 0 || d.Code != bank.OK {
						t.Errorf("%s acknowledged with receipt %+v, code %s", d.Key, d.Receipt, d.Code)
					}
				case audit.Failed:
					failed++
					if d.Key != "bad-1" || d.Code != bank.InvalidArgument {
						t.Errorf("%s failed with %s", d.Key, d.Code)
					}
				default:
					unknown++
				}
			}
			if int64(acked) != res.Acknowledged || failed != tc.wantFailed || (unknown > 0) != tc.wantUnknown {
				t.Errorf("%d acknowledged (stats: %d), %d failed, %d unknown; want %d failed and unknown outcomes %v",
					acked, res.Acknowledged, failed, unknown, tc.wantFailed, tc.wantUnknown)
			}
			r, err := audit.Check(context.Background(), bank.NewService(l), audit.Months(start), deposits, false)
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK {
				t.Fatalf("audit: exactly-once violated: %v", r.Problems)
			}
			if tc.wantUnknown && r.UnknownApplied != 1 {
				t.Errorf("%d unknown-outcome deposits applied, want the one whose answer was lost", r.UnknownApplied)
			}
		})
	}
}

// fastRetry retries with short pauses, and attempts enough that only the
// load's context ends the retries of a deposit.
func fastRetry() []resilience.Option {
	return []resilience.Option{
		resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 1000, InitialBackoff: 5 * time.Millisecond,
			MaxBackoff: 25 * time.Millisecond, AttemptTimeout: 2 * time.Second}),
		resilience.WithoutBudget(), resilience.WithoutBreaker(),
	}
}
