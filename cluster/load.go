package cluster

import (
	"context"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// Load is the deposit load of the cluster's experiments (audit.Load):
// workers×perWorker deposits to accounts 1 to accounts through dial (a
// replica, or HAProxy), each with its own key, retried through the shared
// client layers with short pauses and attempts enough that only the
// load's context ends the retries of a deposit while a replica restarts
// or HAProxy moves on to another. A worker stops at its first deposit
// that was not acknowledged.
func Load(dial func(ctx context.Context) (transport.Client, error), prefix string, workers, perWorker, accounts int) audit.Load {
	return audit.Load{
		Dial: dial,
		Resilience: []resilience.Option{
			resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 1000, InitialBackoff: 5 * time.Millisecond,
				MaxBackoff: 25 * time.Millisecond, AttemptTimeout: 2 * time.Second}),
			resilience.WithoutBudget(), resilience.WithoutBreaker(),
		},
		Deposits: workers * perWorker, Workers: workers, Accounts: accounts, Prefix: prefix,
		StopOnError: true,
	}
}
