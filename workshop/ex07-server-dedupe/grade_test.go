//go:build workshop || solution

package dedupe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/workshop/internal/lab"
)

// TestGrade serves a bank that applies every deposit, behind your Dedupe,
// over a real raw-sockets server.
func TestGrade(t *testing.T) {
	dedupe := lab.Decorate(func(b bank.Bank) bank.Bank { return New(b) })
	s := lab.Start(t, lab.IgnoringKeys(), dedupe)
	c := s.Dial(t)
	ctx := func() context.Context { return lab.Context(t, 5*time.Second) }
	acc := ledger.SeedAccount(1)

	// 1. The same deposit twice.
	first, err := c.Deposit(ctx(), bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: "grader-1"})
	if err != nil {
		t.Fatalf("a first deposit failed: %v", err)
	}
	again, err := c.Deposit(ctx(), bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: "grader-1"})
	if err != nil {
		t.Fatalf("the same deposit sent again with its key failed with %q: answer with the stored receipt", err)
	}
	if n := len(s.Transactions(t, 1)); n != 1 {
		t.Fatalf("the same deposit sent twice with the same key was applied %d times: remember each key's receipt and answer a repeat with it", n)
	}
	if again.TransactionID != first.TransactionID || again.Balance != first.Balance || !again.Replayed {
		t.Fatalf("the repeat of a deposit got receipt %+v, want the first receipt %+v with Replayed set", again, first)
	}

	// 2. The same key for another amount.
	_, err = c.Deposit(ctx(), bank.DepositRequest{Account: acc, Amount: 999, IdempotencyKey: "grader-1"})
	if n := len(s.Transactions(t, 1)); n != 1 {
		t.Fatalf("a deposit of 9.99 reused the key of a deposit of 1.00 and you applied it: the same key with a different request is the client's bug, answer idempotency_key_reused")
	}
	if !errors.Is(err, bank.ErrIdempotencyKeyReuse) {
		t.Fatalf("a deposit of 9.99 reused the key of a deposit of 1.00 and got %v, want idempotency_key_reused", err)
	}

	// 3. One key, twenty times at once.
	const concurrent = 20
	var wg sync.WaitGroup
	receipts := make([]bank.DepositReceipt, concurrent)
	errs := make([]error, concurrent)
	for i := range concurrent {
		wg.Go(func() {
			receipts[i], errs[i] = c.Deposit(ctx(), bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: 200, IdempotencyKey: "grader-2"})
		})
	}
	wg.Wait()
	if n := len(s.Transactions(t, 2)); n != 1 {
		t.Fatalf("%d deposits with the same key arrived at once and %d were applied: claim the key before you apply the deposit, so that the others find it", concurrent, n)
	}
	for i, err := range errs {
		if err != nil && !errors.Is(err, bank.ErrInFlight) {
			t.Fatalf("of %d deposits with the same key at once, one failed with %q: answer the first deposit's receipt (or in_flight)", concurrent, err)
		}
		if err == nil && receipts[i].TransactionID != s.Transactions(t, 2)[0].ID {
			t.Fatalf("of %d deposits with the same key at once, one got a receipt for transaction %d, not the one applied", concurrent, receipts[i].TransactionID)
		}
	}

	// 4. Deposits retried through lost responses, audited.
	f := lab.Start(t, lab.IgnoringKeys(), dedupe, lab.WithPlan(lab.EveryOther(fault.LoseResponse)))
	fc := f.Dial(t)
	var deposits []audit.Deposit
	for i := range 12 {
		req := bank.DepositRequest{Account: ledger.SeedAccount(1 + i%3), Amount: bank.Money(1000 + i), IdempotencyKey: fmt.Sprintf("grader-audit-%d", i)}
		r, err := retry(ctx(), fc, req)
		deposits = append(deposits, audit.Deposit{Key: req.IdempotencyKey, Account: req.Account, Amount: req.Amount,
			Outcome: audit.OutcomeOf(err), Code: bank.CodeOf(err), Receipt: r})
	}
	res, err := audit.Check(ctx(), f.Ledger, []bank.Month{bank.MonthOf(time.Now())}, deposits, true)
	if err != nil {
		t.Fatalf("the audit could not run: %v", err)
	}
	if !res.OK {
		t.Fatalf("12 deposits retried after lost responses failed the exactly-once audit: %s", res.Problems[0])
	}
	if res.Acknowledged != 12 || res.Replayed != 12 {
		t.Fatalf("12 deposits each lost their first response and were retried: %d were acknowledged and %d replayed; want all 12 both", res.Acknowledged, res.Replayed)
	}
}

// retry makes one deposit, retrying it with the same key on the failures
// a lost response causes.
func retry(ctx context.Context, c bank.Bank, req bank.DepositRequest) (bank.DepositReceipt, error) {
	for n := 1; ; n++ {
		r, err := c.Deposit(ctx, req)
		if err == nil || !bank.CodeOf(err).Retryable() || n == 4 {
			return r, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}
