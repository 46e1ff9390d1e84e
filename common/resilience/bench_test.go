package resilience

import (
	"context"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// fixed is the cheapest possible bank, so that the benchmarks measure the
// layers alone.
type fixed struct{}

func (fixed) Balance(context.Context, bank.AccountNo) (bank.Money, error) { return 1, nil }
func (fixed) Statement(_ context.Context, req bank.StatementRequest) (bank.Statement, error) {
	return bank.Statement{Account: req.Account, Month: req.Month}, nil
}
func (fixed) Deposit(_ context.Context, r bank.DepositRequest) (bank.DepositReceipt, error) {
	return bank.DepositReceipt{TransactionID: 1, Balance: r.Amount}, nil
}

func TestSuccessPathAllocatesNothing(t *testing.T) {
	var st Stats
	for name, b := range map[string]bank.Bank{
		"layers":       Wrap(fixed{}),
		"layers+stats": Wrap(fixed{}, WithStats(&st), WithHooks(Hooks{Attempt: func(bank.Op, int, error) {}})),
		"retry":        Wrap(fixed{}, WithoutBreaker()),
	} {
		ctx := context.Background()
		acc := bank.AccountNo("000000001")
		req := bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: "k"}
		if n := testing.AllocsPerRun(1000, func() { b.Balance(ctx, acc) }); n != 0 {
			t.Errorf("%s: Balance allocates %v times per call, want 0", name, n)
		}
		if n := testing.AllocsPerRun(1000, func() { b.Deposit(ctx, req) }); n != 0 {
			t.Errorf("%s: Deposit with a key allocates %v times per call, want 0", name, n)
		}
	}
}

func benchLayers(b *testing.B, next bank.Bank) {
	for _, v := range []struct {
		name string
		b    bank.Bank
	}{
		{"bare", next},
		{"retry", Wrap(next, WithoutBreaker())},
		{"breaker", Wrap(next, WithoutRetry())},
		{"layers", Wrap(next)},
		{"layers+attempt-timeout", Wrap(next, WithRetry(RetryPolicy{AttemptTimeout: 1e9}))},
	} {
		ctx := context.Background()
		acc := ledger.SeedAccount(1)
		b.Run(v.name+"/Balance", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.b.Balance(ctx, acc)
			}
		})
		b.Run(v.name+"/BalanceParallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					v.b.Balance(ctx, acc)
				}
			})
		})
		b.Run(v.name+"/Deposit", func(b *testing.B) {
			b.ReportAllocs()
			req := bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: "k"}
			for b.Loop() {
				v.b.Deposit(ctx, req)
			}
		})
	}
}

// BenchmarkLayers measures the layers around a bank that does nothing.
func BenchmarkLayers(b *testing.B) { benchLayers(b, fixed{}) }

// BenchmarkLayersOverService measures them around the reference service
// over the memory ledger (deposits replay one key, as a retry would).
func BenchmarkLayersOverService(b *testing.B) {
	benchLayers(b, bank.NewService(ledger.NewMemory(10)))
}

func BenchmarkNewKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewKey()
	}
}
