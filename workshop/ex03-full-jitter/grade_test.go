//go:build workshop || solution

package jitter

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/workshop/internal/lab"
)

func TestGrade(t *testing.T) {
	// 1. The distribution of the delays, with a fixed seed.
	b := Backoff{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond, Multiplier: 2}
	r := rand.New(rand.NewPCG(1, 2))
	for attempt := range 7 {
		ceiling := b.Ceiling(attempt)
		const n = 2000
		ds := make([]time.Duration, n)
		var sum time.Duration
		for i := range ds {
			ds[i] = b.FullJitter(attempt, r)
			sum += ds[i]
		}
		lo, hi, mean := slices.Min(ds), slices.Max(ds), sum/n
		switch {
		case lo == hi:
			t.Fatalf("FullJitter(%d) returned %s %d times out of %d: clients that failed together will retry together, in waves; draw the delay at random in [0, %s]", attempt, lo, n, n, ceiling)
		case lo < 0 || hi > ceiling:
			t.Fatalf("FullJitter(%d) returned %s, outside [0, %s]: full jitter never waits longer than the ceiling, nor less than nothing", attempt, map[bool]time.Duration{true: lo, false: hi}[lo < 0], ceiling)
		case lo > ceiling/20:
			t.Fatalf("FullJitter(%d) never returned less than %s: full jitter draws from 0 up to the ceiling %s, so some clients retry almost at once", attempt, lo, ceiling)
		case math.Abs(float64(mean)/float64(ceiling)-0.5) > 0.05:
			t.Fatalf("FullJitter(%d) averaged %s, %.0f%% of its ceiling %s: a uniform draw from [0, ceiling] averages half of it", attempt, mean.Round(time.Microsecond), 100*float64(mean)/float64(ceiling), ceiling)
		}
	}

	// 2. 50 clients fail together and retry against a real server.
	const clients = 50
	s := lab.Start(t, lab.Decorate(failFirst(2)))
	b = Backoff{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		c := NewClient(s.Dial(t), b, rand.New(rand.NewPCG(uint64(i), 7)))
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := c.Balance(ctx, ledger.SeedAccount(i+1)); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// The first retry's delay of each client, as the server saw it.
	first := map[bank.AccountNo]time.Duration{}
	var gaps []time.Duration
	for _, a := range s.Calls.Arrivals() {
		if t0, ok := first[a.Account]; !ok {
			first[a.Account] = a.At
		} else if t0 >= 0 {
			gaps = append(gaps, a.At-t0)
			first[a.Account] = -1
		}
	}
	var mean, sd float64
	for _, g := range gaps {
		mean += float64(g) / float64(len(gaps))
	}
	for _, g := range gaps {
		sd += (float64(g) - mean) * (float64(g) - mean) / float64(len(gaps))
	}
	sd = math.Sqrt(sd)
	if time.Duration(sd) < 5*time.Millisecond {
		t.Fatalf("%d clients that failed together all retried %s to %s later: they come back in one wave, which can knock a recovering server down again; spread them over [0, %s]", len(gaps), slices.Min(gaps).Round(time.Millisecond), slices.Max(gaps).Round(time.Millisecond), b.Initial)
	}
}

// failFirst answers the first n balances of each account unavailable.
func failFirst(n int) func(bank.Bank) bank.Bank {
	return func(next bank.Bank) bank.Bank { return &failing{Bank: next, n: n, seen: map[bank.AccountNo]int{}} }
}

type failing struct {
	bank.Bank
	n    int
	mu   sync.Mutex
	seen map[bank.AccountNo]int
}

func (f *failing) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	f.mu.Lock()
	f.seen[acc]++
	k := f.seen[acc]
	f.mu.Unlock()
	if k <= f.n {
		return 0, bank.Errorf(bank.Unavailable, "the server is restarting")
	}
	return f.Bank.Balance(ctx, acc)
}
