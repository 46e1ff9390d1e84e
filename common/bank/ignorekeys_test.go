package bank_test

import (
	"context"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

func TestIgnoreKeysAppliesEveryRepeat(t *testing.T) {
	b := bank.IgnoreKeys(bank.NewService(ledger.NewMemory(1)))
	req := bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 10, IdempotencyKey: "same"}
	r1, err1 := b.Deposit(context.Background(), req)
	r2, err2 := b.Deposit(context.Background(), req)
	if err1 != nil || err2 != nil || r2.Replayed || r1.TransactionID == r2.TransactionID {
		t.Fatalf("second deposit with the same key: %+v %v, %+v %v; want a new transaction", r1, err1, r2, err2)
	}
	if m, _ := b.Balance(context.Background(), req.Account); m != ledger.SeedBalance(1)+20 {
		t.Fatalf("balance %d, want both deposits applied", m)
	}
}
