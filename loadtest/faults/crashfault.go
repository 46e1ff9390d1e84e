package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/transport"
)

// scenarioCrashes is how many server processes a crash scenario kills.
const scenarioCrashes = 2

// crashScenario is the run of the crash-before-apply and crash-after-apply
// scenarios: runCrash with the cell's deposits spread over c.Workers
// clients, on a SQLite file of its own, the server SIGKILLed scenarioCrashes
// times. The clients are patient (no budget, no breaker, many attempts):
// the point is that a deposit retried across a real restart is applied
// once, and an outage the breaker would cut short is the outage scenario's
// business.
func crashScenario(kind fault.Kind) func(context.Context, Scenario, transport.Variant, Config) Result {
	return func(ctx context.Context, s Scenario, tr transport.Variant, c Config) Result {
		res := newResult(s, tr, c)
		res.NoBudget, res.NoBreaker = true, true
		dir, err := os.MkdirTemp("", "igbank-crash-")
		if err != nil {
			res.Error = err.Error()
			return res
		}
		defer os.RemoveAll(dir)

		var k *keys
		if c.TLS {
			if k, err = newKeys(); err != nil {
				res.Error = err.Error()
				return res
			}
			defer k.close()
		}
		perClient := max(1, c.Deposits/c.Workers)
		total := perClient * c.Workers
		var mu sync.Mutex
		start := time.Now()
		cr, err := runCrash(ctx, crashConfig{
			Transport: tr,
			Store:     "sqlite:" + filepath.Join(dir, "bank.db"),
			// Each server process dies on its Nth deposit: spread over the
			// run, with the last server left to finish it.
			Fault:      fault.Spec{Kind: kind, Nth: int64(max(1, total/(scenarioCrashes+2)))},
			Crashes:    scenarioCrashes,
			IgnoreKeys: c.IgnoreKeys,
			Keys:       k,
			Accounts:   c.Accounts,
			Clients:    c.Workers,
			Deposits:   perClient,
			Resilience: crashLayers(c, res.attemptErrors(&mu)),
		})
		res.ElapsedMs = ms(time.Since(start))
		if err != nil {
			res.Error = err.Error()
			return res
		}
		// Without retries the clients move on while a server restarts, so
		// the load may end before the last planned death: one will do.
		if cr.Deaths != scenarioCrashes && !(c.NoRetry && cr.Deaths > 0) {
			res.Error = fmt.Sprintf("the server was killed %d times, want %d", cr.Deaths, scenarioCrashes)
			return res
		}
		res.Audit = cr.Audit
		res.Calls, res.Attempts, res.Retries = int64(len(cr.Deposits)), cr.Attempts, cr.Retries
		for _, d := range cr.Deposits {
			if d.Outcome != audit.Acknowledged {
				res.FinalErrors[d.Code.String()]++
			}
		}
		res.Timeline = cr.Timeline
		markApplied(res.Timeline, cr.Deposits, cr.Audit.Applications)
		res.finish(s)
		return res
	}
}

// crashLayers are the client layers of a crash cell: patient retries
// (audit.Patient), or one attempt with c.NoRetry, counting attempt errors
// with attempt.
func crashLayers(c Config, attempt func(bank.Op, int, error)) []resilience.Option {
	opts := append(audit.Patient(), resilience.WithHooks(resilience.Hooks{Attempt: attempt}))
	if c.NoRetry {
		opts = append(opts, resilience.WithoutRetry())
	}
	return opts
}
