package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store/internal/storetest"
	"github.com/igbank/igbank/common/store/postgres"
	"github.com/igbank/igbank/common/store/postgres/pgtest"
)

func open(t testing.TB, url string, n int, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, url+"&pool_max_conns=8", n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func exec(t testing.TB, url, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestConformance(t *testing.T) {
	banktest.Run(t, banktest.InProcess, banktest.WithLedger(func(t testing.TB, n int) bank.Ledger {
		return open(t, pgtest.Schema(t), n)
	}))
}

func TestKeyExpiry(t *testing.T) {
	storetest.KeyExpiry(t, func(t *testing.T, now func() time.Time) storetest.Sweeping {
		return open(t, pgtest.Schema(t), 10,
			postgres.WithClock(now), postgres.WithRetention(time.Hour), postgres.WithSweepInterval(0))
	})
}

func TestClockStepsBack(t *testing.T) {
	storetest.ClockStepsBack(t, func(t *testing.T, now func() time.Time) storetest.Sweeping {
		return open(t, pgtest.Schema(t), 10, postgres.WithClock(now), postgres.WithSweepInterval(0))
	})
}

func TestOverflowRejected(t *testing.T) {
	url := pgtest.Schema(t)
	s := open(t, url, 1)
	exec(t, url, `UPDATE accounts SET balance = $1`, int64(bank.MaxBalance-5))
	ctx := context.Background()
	_, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 6, IdempotencyKey: "overflow"})
	if !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("overflowing deposit: %v, want InvalidArgument", err)
	}
	r, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 5, IdempotencyKey: "overflow"})
	if err != nil || r.Replayed || r.Balance != bank.MaxBalance {
		t.Fatalf("deposit to the maximum = %+v, %v", r, err)
	}
}

// Replicas: several stores on one database, opened at the same moment
// (migrations and seeding race), all sending the same keys at once.
func TestReplicasApplyEachKeyOnce(t *testing.T) {
	url := pgtest.Schema(t)
	const replicas, accounts = 3, 50
	stores := make([]*postgres.Store, replicas)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i] = open(t, url, accounts)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctx := context.Background()
	const keys, tries = 40, 4
	var applied, replayed, inflight sync.Map
	start := make(chan struct{})
	for k := 0; k < keys; k++ {
		for r := 0; r < replicas; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				req := bank.DepositRequest{Account: ledger.SeedAccount(1 + k%5), Amount: bank.Money(k + 1), IdempotencyKey: fmt.Sprintf("replica-key-%d", k)}
				for range tries {
					rc, err := stores[r].Deposit(ctx, req)
					switch {
					case errors.Is(err, bank.ErrInFlight):
						inflight.Store(k, true)
						time.Sleep(20 * time.Millisecond)
						continue
					case err != nil:
						t.Errorf("key %d on replica %d: %v", k, r, err)
					case rc.Replayed:
						replayed.Store(fmt.Sprint(k, r), rc.TransactionID)
					default:
						if prev, dup := applied.LoadOrStore(k, rc.TransactionID); dup {
							t.Errorf("key %d applied twice: transactions %v and %d", k, prev, rc.TransactionID)
						}
					}
					return
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	var want bank.Money
	for k := 0; k < keys; k++ {
		if _, ok := applied.Load(k); !ok {
			// Every replica got InFlight each time; a final call settles it.
			r, err := stores[0].Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1 + k%5), Amount: bank.Money(k + 1), IdempotencyKey: fmt.Sprintf("replica-key-%d", k)})
			if err != nil || !r.Replayed {
				t.Fatalf("key %d: never applied fresh; final call %+v, %v", k, r, err)
			}
		}
		want += bank.Money(k + 1)
	}
	var got bank.Money
	txs := 0
	for i := 1; i <= 5; i++ {
		b, err := stores[i%replicas].Balance(ctx, ledger.SeedAccount(i))
		if err != nil {
			t.Fatal(err)
		}
		got += b - ledger.SeedBalance(i)
		st, err := bank.ReadStatement(ctx, bank.NewService(stores[0]), bank.StatementRequest{Account: ledger.SeedAccount(i), Month: bank.MonthOf(time.Now())})
		if err != nil {
			t.Fatal(err)
		}
		txs += len(st.Transactions)
	}
	if got != want || txs != keys {
		t.Fatalf("deposited %d in %d transactions, want %d in %d", got, txs, want, keys)
	}
}

// A replica that claimed a key and died before its deposit committed leaves
// the key pending: repeats get InFlight until the lease ends, then one
// takes it over and applies it once.
func TestAbandonedClaimIsTakenOver(t *testing.T) {
	url := pgtest.Schema(t)
	clock := storetest.NewClock(time.Now().UTC())
	s := open(t, url, 5, postgres.WithClock(clock.Now), postgres.WithLease(time.Second))
	exec(t, url, `INSERT INTO idempotency_keys (key, account, amount, claim, claimed_at, expires_at) VALUES ('dead', '000000002', 700, 12345, $1, $2)`,
		clock.Now(), clock.Now().Add(time.Hour))
	ctx := context.Background()
	req := bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: 700, IdempotencyKey: "dead"}
	if _, err := s.Deposit(ctx, req); !errors.Is(err, bank.ErrInFlight) {
		t.Fatalf("within the lease: %v, want InFlight", err)
	}
	bad := req
	bad.Amount = 1
	if _, err := s.Deposit(ctx, bad); !errors.Is(err, bank.ErrIdempotencyKeyReuse) {
		t.Fatalf("other request within the lease: %v, want IdempotencyKeyReuse", err)
	}
	clock.Add(2 * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.Deposit(ctx, req)
			if err != nil && !errors.Is(err, bank.ErrInFlight) {
				t.Errorf("takeover: %v", err)
			}
			if err == nil && !r.Replayed {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d takeovers applied the deposit, want 1", fresh)
	}
	if b, _ := s.Balance(ctx, req.Account); b != ledger.SeedBalance(2)+700 {
		t.Fatalf("balance %d, want %d", b, ledger.SeedBalance(2)+700)
	}
	// A claim whose deposit did commit (the replica died after COMMIT but
	// before answering) is replayed, not applied again.
	exec(t, url, `INSERT INTO idempotency_keys (key, account, amount, claim, claimed_at, expires_at) VALUES ('done', '000000003', 5, 777, $1, $2)`,
		clock.Now().Add(-time.Minute), clock.Now().Add(time.Hour))
	exec(t, url, `UPDATE accounts SET balance = balance + 5 WHERE no = '000000003'`)
	exec(t, url, `INSERT INTO transactions (claim, account, at, amount, balance_after, idem_key) VALUES (777, '000000003', $1, 5, $2, 'done')`,
		clock.Now(), int64(ledger.SeedBalance(3)+5))
	r, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(3), Amount: 5, IdempotencyKey: "done"})
	if err != nil || !r.Replayed || r.Balance != ledger.SeedBalance(3)+5 {
		t.Fatalf("committed claim = %+v, %v; want a replay", r, err)
	}
}

func TestSeedIsIdempotentAndFast(t *testing.T) {
	url := pgtest.Schema(t)
	start := time.Now()
	s := open(t, url, ledger.DefaultAccounts)
	t.Logf("seeded %d accounts in %v", ledger.DefaultAccounts, time.Since(start))
	ctx := context.Background()
	if _, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(10_000), Amount: 1, IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, url, ledger.DefaultAccounts+5)
	if b, err := s2.Balance(ctx, ledger.SeedAccount(10_000)); err != nil || b != ledger.SeedBalance(10_000)+1 {
		t.Fatalf("balance after reopening = %d, %v", b, err)
	}
	if b, err := s2.Balance(ctx, ledger.SeedAccount(10_005)); err != nil || b != ledger.SeedBalance(10_005) {
		t.Fatalf("added account = %d, %v", b, err)
	}
}

func TestPaging(t *testing.T) {
	storetest.Paging(t, func(t *testing.T, now func() time.Time) storetest.Sweeping {
		return open(t, pgtest.Schema(t), 10, postgres.WithClock(now), postgres.WithSweepInterval(0))
	})
}

// A replica that claimed a key and stalled past its lease (paused in its
// claim hook) wakes up after another replica took the key over under a
// newer fencing token and applied the deposit: with the fence it is
// refused and changes nothing; without it the deposit is applied twice,
// each transaction carrying its own token.
func TestFencingTokenRefusesAStaleHolder(t *testing.T) {
	for _, fenced := range []bool{true, false} {
		t.Run(fmt.Sprintf("fence=%v", fenced), func(t *testing.T) {
			url := pgtest.Schema(t)
			claimed, wake := make(chan int64, 1), make(chan struct{})
			opts := []postgres.Option{postgres.WithLease(300 * time.Millisecond)}
			if !fenced {
				opts = append(opts, postgres.WithoutFence())
			}
			a := open(t, url, 3, append(opts, postgres.WithClaimHook(func(_ context.Context, _ string, token int64) {
				claimed <- token
				<-wake
			}))...)
			b := open(t, url, 3, opts...)
			ctx := context.Background()
			req := bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 500, IdempotencyKey: "paused"}
			aErr := make(chan error, 1)
			go func() { _, err := a.Deposit(ctx, req); aErr <- err }()
			stale := <-claimed
			if _, err := b.Deposit(ctx, req); !errors.Is(err, bank.ErrInFlight) {
				t.Fatalf("within the lease: %v, want InFlight", err)
			}
			time.Sleep(600 * time.Millisecond)
			r, err := b.Deposit(ctx, req)
			if err != nil || r.Replayed {
				t.Fatalf("takeover = %+v, %v; want the deposit applied", r, err)
			}
			close(wake)
			err = <-aErr
			bal, _ := b.Balance(ctx, req.Account)
			rows := tokens(t, url, "paused")
			t.Logf("stale holder: %v; transactions' tokens %v; balance %d", err, rows, bal-ledger.SeedBalance(1))
			if fenced {
				if !errors.Is(err, bank.ErrInFlight) || len(rows) != 1 || rows[0] <= stale || bal != ledger.SeedBalance(1)+500 {
					t.Fatalf("with the fence: stale holder %v, tokens %v (stale %d), balance +%d; want it refused, one transaction with a newer token, +500",
						err, rows, stale, bal-ledger.SeedBalance(1))
				}
			} else if err != nil || len(rows) != 2 || !slices.Contains(rows, stale) || max(rows[0], rows[1]) <= stale || bal != ledger.SeedBalance(1)+1000 {
				t.Fatalf("without the fence: stale holder %v, tokens %v (stale %d), balance +%d; want the deposit applied twice",
					err, rows, stale, bal-ledger.SeedBalance(1))
			}
		})
	}
}

// tokens returns the fencing tokens of key's transactions, in id order.
func tokens(t *testing.T, url, key string) []int64 {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT claim FROM transactions WHERE idem_key = $1 ORDER BY id`, key)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
