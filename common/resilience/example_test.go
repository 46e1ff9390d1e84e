package resilience_test

import (
	"context"
	"fmt"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
)

func ExampleWrap() {
	// Any bank.Bank: usually a transport's client, here the service itself.
	var c bank.Bank = bank.NewService(ledger.NewMemory(10))

	var stats resilience.Stats
	b := resilience.Wrap(c,
		resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 5, Jitter: resilience.JitterFull}),
		resilience.WithBreaker(resilience.BreakerSettings{ConsecutiveFailures: 5, OpenTimeout: 10 * time.Second}),
		resilience.WithStats(&stats))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// No key: the layer makes one and reuses it on every attempt.
	r, err := b.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 250})
	fmt.Println(r.Balance == ledger.SeedBalance(1)+250, err, stats.Attempts.Load())
	// Output: true <nil> 1
}
