package resilience_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/resilience/resiliencetest"
)

// instantClock is the real clock whose sleeps end at once: the property
// does not depend on the delays, and the test stays fast.
type instantClock struct{}

func (instantClock) Now() time.Time                                   { return time.Now() }
func (instantClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// lossy sits between the client layers and the server and loses requests
// (the server never sees them) and responses (the server applied the call,
// the client hears only a broken connection), at random.
type lossy struct {
	next                bank.Bank
	mu                  sync.Mutex
	rnd                 *rand.Rand
	pRequest, pResponse float64
	lostReq, lostResp   int
}

var errLost = bank.Errorf(bank.Unavailable, "connection reset by peer")

func (l *lossy) roll() (loseRequest, loseResponse bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	x := l.rnd.Float64()
	switch {
	case x < l.pRequest:
		l.lostReq++
		return true, false
	case x < l.pRequest+l.pResponse:
		l.lostResp++
		return false, true
	}
	return false, false
}

func (l *lossy) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	req, resp := l.roll()
	if req {
		return 0, errLost
	}
	m, err := l.next.Balance(ctx, acc)
	if resp {
		return 0, errLost
	}
	return m, err
}

func (l *lossy) Statement(ctx context.Context, sr bank.StatementRequest) (bank.Statement, error) {
	req, resp := l.roll()
	if req {
		return bank.Statement{}, errLost
	}
	st, err := l.next.Statement(ctx, sr)
	if resp {
		return bank.Statement{}, errLost
	}
	return st, err
}

func (l *lossy) Deposit(ctx context.Context, r bank.DepositRequest) (bank.DepositReceipt, error) {
	req, resp := l.roll()
	if req {
		return bank.DepositReceipt{}, errLost
	}
	rc, err := l.next.Deposit(ctx, r)
	if resp {
		return bank.DepositReceipt{}, errLost
	}
	return rc, err
}

// TestExactlyOnceUnderLoss is the property: through the layers, N logical
// deposits over a link that loses requests and responses at random apply
// exactly N deposits, and each acknowledged one is in the statement once.
// Checked over many seeds, loss rates and concurrency levels.
func TestExactlyOnceUnderLoss(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		rnd := rand.New(rand.NewPCG(seed, 99))
		srv := bank.NewService(ledger.NewMemory(4))
		link := &lossy{next: srv, rnd: rand.New(rand.NewPCG(seed, 1)),
			pRequest: rnd.Float64() * 0.3, pResponse: rnd.Float64() * 0.3}
		b := resilience.Wrap(link, resilience.WithClock(instantClock{}), resilience.WithoutBudget(),
			resilience.WithoutBreaker(), resilience.WithRetry(resilience.RetryPolicy{MaxAttempts: 50}))
		workers, perWorker := 1+rnd.IntN(8), 10+rnd.IntN(40)
		acc := ledger.SeedAccount(1 + rnd.IntN(4))
		var mu sync.Mutex
		var receipts []bank.DepositReceipt
		var sum bank.Money
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWorker; i++ {
					amount := bank.Money(1 + (w*perWorker+i)%97)
					r, err := b.Deposit(context.Background(), bank.DepositRequest{Account: acc, Amount: amount})
					if err != nil {
						t.Errorf("seed %d: deposit failed after retries: %v", seed, err)
						return
					}
					mu.Lock()
					receipts = append(receipts, r)
					sum += amount
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		n := workers * perWorker
		resiliencetest.Check(t, srv, acc, n, sum, receipts)
		t.Logf("seed %d: %d deposits by %d workers, lost %d requests and %d responses (p %.2f, %.2f): exactly once",
			seed, n, workers, link.lostReq, link.lostResp, link.pRequest, link.pResponse)
	}
}
