//go:build workshop || solution

package keyonce

import (
	"fmt"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/workshop/internal/lab"
)

// TestGrade drives Client.Deposit through a real raw-sockets server whose
// every other deposit loses its response after being applied.
func TestGrade(t *testing.T) {
	s := lab.Start(t, lab.WithPlan(lab.EveryOther(fault.LoseResponse)))
	c := NewClient(s.Dial(t))
	keys := 0
	c.NewKey = func() string { keys++; return fmt.Sprintf("grader-key-%d", keys) }

	// 1. Five deposits, each losing its first response.
	amounts := []bank.Money{101, 102, 103, 104, 105}
	for _, a := range amounts {
		r, err := c.Deposit(lab.Context(t, 5*time.Second), bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: a})
		applied := count(s.Transactions(t, 1), a)
		switch {
		case applied > 1:
			t.Fatalf("a deposit of %s was applied %d times: after its response was lost, your retry sent a new idempotency key, so the server took the retry for a new deposit", a, applied)
		case err != nil:
			t.Fatalf("a deposit of %s failed with %q after a lost response: retried with the same key, it should have got the stored receipt", a, err)
		case applied == 0:
			t.Fatalf("a deposit of %s was acknowledged but never applied", a)
		case !r.Replayed:
			t.Fatalf("the deposit of %s lost its first response, yet its receipt is not a replay: the retry must carry the first attempt's key", a)
		}
	}
	if keys != len(amounts) {
		t.Fatalf("you made %d keys for %d deposits: make exactly one key per logical deposit, before the first attempt", keys, len(amounts))
	}

	// 2. The caller's own key is kept.
	const mine = "caller-chosen-key-1"
	if _, err := c.Deposit(lab.Context(t, 5*time.Second), bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: 200, IdempotencyKey: mine}); err != nil {
		t.Fatalf("a deposit with the caller's key %q failed: %v", mine, err)
	}
	if txs := s.Transactions(t, 2); len(txs) != 1 || txs[0].IdempotencyKey != mine {
		got := "nothing"
		if len(txs) > 0 {
			got = fmt.Sprintf("key %q", txs[0].IdempotencyKey)
		}
		t.Fatalf("the caller gave the key %q but the server got %s: keep the caller's key, so that the caller's own retries are recognised too", mine, got)
	}
}

func count(txs []bank.Transaction, amount bank.Money) int {
	n := 0
	for _, tx := range txs {
		if tx.Amount == amount {
			n++
		}
	}
	return n
}
