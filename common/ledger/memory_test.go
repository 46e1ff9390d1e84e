package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

var bg = context.Background()

func deposit(t *testing.T, m *Memory, i int, amount bank.Money, key string) bank.DepositReceipt {
	t.Helper()
	r, err := m.Deposit(bg, bank.DepositRequest{Account: SeedAccount(i), Amount: amount, IdempotencyKey: key})
	if err != nil {
		t.Fatalf("Deposit(%d, %d, %q): %v", i, amount, key, err)
	}
	return r
}

func balance(t *testing.T, m *Memory, i int) bank.Money {
	t.Helper()
	b, err := m.Balance(bg, SeedAccount(i))
	if err != nil {
		t.Fatalf("Balance(%d): %v", i, err)
	}
	return b
}

func wantCode(t *testing.T, what string, err error, want *bank.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v (code %v), want code %v", what, err, bank.CodeOf(err), want.Code)
	}
}

func TestSeededAccounts(t *testing.T) {
	m := NewMemory(50)
	for _, i := range []int{1, 2, 25, 50} {
		if got := balance(t, m, i); got != SeedBalance(i) {
			t.Fatalf("Balance(%d) = %d, want %d", i, got, SeedBalance(i))
		}
	}
	for _, acc := range []bank.AccountNo{SeedAccount(51), "000000000", SeedAccount(999_999_999)} {
		_, err := m.Balance(bg, acc)
		wantCode(t, "Balance "+string(acc), err, bank.ErrNotFound)
		_, err = m.Statement(bg, bank.StatementQuery{Limit: bank.MaxPageSize, Account: acc, Month: "2026-01"})
		wantCode(t, "Statement "+string(acc), err, bank.ErrNotFound)
		_, err = m.Deposit(bg, bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: "k"})
		wantCode(t, "Deposit "+string(acc), err, bank.ErrNotFound)
	}
	// A failed deposit to an unknown account does not consume its key.
	if r := deposit(t, m, 1, 1, "k"); r.Replayed {
		t.Fatalf("key of a deposit to an unknown account was kept: %+v", r)
	}
}

func TestReplayUntilExpiry(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	const retention = time.Hour
	m := NewMemory(10, WithClock(clock.Now), WithRetention(retention))
	first := deposit(t, m, 1, 500, "key-1")
	if first.Replayed || first.Balance != SeedBalance(1)+500 {
		t.Fatalf("first deposit = %+v", first)
	}

	// Up to the last instant of the retention, the key replays.
	for _, d := range []time.Duration{0, time.Minute, retention - time.Nanosecond} {
		clock.Set(t0.Add(d))
		r := deposit(t, m, 1, 500, "key-1")
		if !r.Replayed || r.TransactionID != first.TransactionID || r.Balance != first.Balance {
			t.Fatalf("replay at +%v = %+v, want %+v replayed", d, r, first)
		}
		_, err := m.Deposit(bg, bank.DepositRequest{Account: SeedAccount(1), Amount: 501, IdempotencyKey: "key-1"})
		wantCode(t, fmt.Sprintf("other amount at +%v", d), err, bank.ErrIdempotencyKeyReuse)
	}
	if got := balance(t, m, 1); got != first.Balance {
		t.Fatalf("balance %d after replays, want %d", got, first.Balance)
	}

	// At the retention the key is forgotten: it is usable again, even for
	// another request.
	clock.Set(t0.Add(retention))
	second := deposit(t, m, 2, 700, "key-1")
	if second.Replayed || second.TransactionID == first.TransactionID || second.Balance != SeedBalance(2)+700 {
		t.Fatalf("deposit with the expired key = %+v, want a new deposit", second)
	}
	// And now it replays that new deposit.
	clock.Advance(time.Minute)
	if r := deposit(t, m, 2, 700, "key-1"); !r.Replayed || r.TransactionID != second.TransactionID {
		t.Fatalf("replay of the reused key = %+v, want %+v", r, second)
	}
	_, err := m.Deposit(bg, bank.DepositRequest{Account: SeedAccount(1), Amount: 500, IdempotencyKey: "key-1"})
	wantCode(t, "the first request under the reused key", err, bank.ErrIdempotencyKeyReuse)
	if balance(t, m, 1) != first.Balance || balance(t, m, 2) != second.Balance {
		t.Fatalf("balances changed by replays")
	}
}

func TestKeyReuse(t *testing.T) {
	m := NewMemory(10)
	r := deposit(t, m, 3, 100, "reused")
	for _, req := range []bank.DepositRequest{
		{Account: SeedAccount(3), Amount: 101, IdempotencyKey: "reused"},
		{Account: SeedAccount(4), Amount: 100, IdempotencyKey: "reused"},
		{Account: SeedAccount(4), Amount: 7, IdempotencyKey: "reused"},
	} {
		_, err := m.Deposit(bg, req)
		wantCode(t, fmt.Sprintf("%+v", req), err, bank.ErrIdempotencyKeyReuse)
	}
	if balance(t, m, 3) != r.Balance || balance(t, m, 4) != SeedBalance(4) {
		t.Fatalf("a rejected reuse changed a balance")
	}
	// Keys are case sensitive and compared whole.
	deposit(t, m, 3, 100, "Reused")
	deposit(t, m, 3, 100, "reused-2")
}

// A deposit held mid-flight (its account locked by the test) makes a
// repeat of its key get InFlight, and another request under its key get
// IdempotencyKeyReuse; once it completes, the repeat replays it.
func TestInFlight(t *testing.T) {
	m := NewMemory(10)
	a := &m.accounts[4]
	req := bank.DepositRequest{Account: SeedAccount(5), Amount: 250, IdempotencyKey: "slow"}
	a.mu.Lock()
	type result struct {
		r   bank.DepositReceipt
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := m.Deposit(bg, req)
		done <- result{r, err}
	}()
	// Wait until the deposit has claimed its key.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := m.shard(req.IdempotencyKey)
		s.mu.Lock()
		_, claimed := s.m[req.IdempotencyKey]
		s.mu.Unlock()
		if claimed {
			break
		}
		if time.Now().After(deadline) {
			a.mu.Unlock()
			t.Fatal("the deposit never claimed its key")
		}
		time.Sleep(time.Millisecond)
	}
	_, err := m.Deposit(bg, req)
	wantCode(t, "repeat while in flight", err, bank.ErrInFlight)
	if !bank.CodeOf(err).Retryable() {
		t.Fatalf("in flight is not retryable")
	}
	other := req
	other.Amount++
	_, err = m.Deposit(bg, other)
	wantCode(t, "another request while in flight", err, bank.ErrIdempotencyKeyReuse)
	a.mu.Unlock()

	res := <-done
	if res.err != nil || res.r.Replayed {
		t.Fatalf("held deposit = %+v, %v", res.r, res.err)
	}
	if r := deposit(t, m, 5, 250, "slow"); !r.Replayed || r.TransactionID != res.r.TransactionID {
		t.Fatalf("repeat after completion = %+v, want a replay of %+v", r, res.r)
	}
}

// Many goroutines with one key: one applies it, the others replay it or
// see it in flight; the balance rises once.
func TestConcurrentSameKey(t *testing.T) {
	for round := 0; round < 20; round++ {
		m := NewMemory(10)
		const n = 32
		req := bank.DepositRequest{Account: SeedAccount(6), Amount: 1_000, IdempotencyKey: fmt.Sprintf("same-%d", round)}
		var wg sync.WaitGroup
		results := make([]bank.DepositReceipt, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for g := 0; g < n; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[g], errs[g] = m.Deposit(bg, req)
			}()
		}
		close(start)
		wg.Wait()
		fresh := 0
		var applied bank.DepositReceipt
		for g := 0; g < n; g++ {
			if errs[g] != nil {
				wantCode(t, "concurrent same key", errs[g], bank.ErrInFlight)
				continue
			}
			if !results[g].Replayed {
				fresh++
				applied = results[g]
			}
		}
		if fresh != 1 {
			t.Fatalf("%d deposits applied, want 1", fresh)
		}
		for g := 0; g < n; g++ {
			if errs[g] == nil && (results[g].TransactionID != applied.TransactionID || results[g].Balance != applied.Balance) {
				t.Fatalf("receipt %+v differs from the applied %+v", results[g], applied)
			}
		}
		if got := balance(t, m, 6); got != SeedBalance(6)+1_000 {
			t.Fatalf("balance %d, want %d", got, SeedBalance(6)+1_000)
		}
	}
}

// Concurrent deposits with distinct keys to a few accounts all apply, with
// unique increasing transaction ids, and each account's history adds up.
func TestConcurrentDistinctKeys(t *testing.T) {
	m := NewMemory(4)
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				_, err := m.Deposit(bg, bank.DepositRequest{Account: SeedAccount(1 + k%4), Amount: 1, IdempotencyKey: fmt.Sprintf("w%d-k%d", w, k)})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i := 1; i <= 4; i++ {
		st, err := m.Statement(bg, bank.StatementQuery{Limit: bank.MaxPageSize, Account: SeedAccount(i), Month: bank.MonthOf(time.Now())})
		if err != nil {
			t.Fatal(err)
		}
		prev := st.Opening
		var prevID int64
		for _, tx := range st.Transactions {
			if seen[tx.ID] || tx.ID <= prevID || tx.BalanceAfter != prev+tx.Amount {
				t.Fatalf("account %d: bad transaction %+v after id %d balance %d", i, tx, prevID, prev)
			}
			seen[tx.ID] = true
			prev, prevID = tx.BalanceAfter, tx.ID
		}
		if prev != balance(t, m, i) || st.Closing != prev {
			t.Fatalf("account %d: history ends at %d, balance %d", i, prev, balance(t, m, i))
		}
	}
	if len(seen) != workers*each {
		t.Fatalf("%d transactions, want %d", len(seen), workers*each)
	}
}

// A deposit that would take a balance past bank.MaxBalance is rejected,
// changes nothing and releases its key.
func TestOverflowRejected(t *testing.T) {
	m := NewMemory(10)
	a := &m.accounts[6]
	a.balance.Store(int64(bank.MaxBalance - 10))
	for _, amount := range []bank.Money{11, bank.MaxDeposit} {
		_, err := m.Deposit(bg, bank.DepositRequest{Account: SeedAccount(7), Amount: amount, IdempotencyKey: "overflow"})
		wantCode(t, fmt.Sprintf("deposit of %d near the maximum", amount), err, bank.ErrInvalidArgument)
	}
	if got := balance(t, m, 7); got != bank.MaxBalance-10 {
		t.Fatalf("balance %d after rejected deposits, want %d", got, bank.MaxBalance-10)
	}
	// The key was released: the same key with an amount that fits applies.
	r := deposit(t, m, 7, 10, "overflow")
	if r.Replayed || r.Balance != bank.MaxBalance {
		t.Fatalf("deposit up to the maximum = %+v", r)
	}
	_, err := m.Deposit(bg, bank.DepositRequest{Account: SeedAccount(7), Amount: 1, IdempotencyKey: "past-max"})
	wantCode(t, "deposit at the maximum", err, bank.ErrInvalidArgument)
	if len(a.txs) != 1 {
		t.Fatalf("%d transactions recorded, want 1", len(a.txs))
	}
}

func TestStatementAcrossMonths(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC))
	m := NewMemory(10, WithClock(clock.Now))
	const i = 8
	open := SeedBalance(i)
	jan := deposit(t, m, i, 100, "jan")
	clock.Set(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) // the first instant of February
	feb1 := deposit(t, m, i, 20, "feb-1")
	// A clock in another zone: 2026-02-28 23:30 in UTC-5 is March 1st UTC.
	clock.Set(time.Date(2026, 2, 28, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)))
	mar := deposit(t, m, i, 3, "mar")
	clock.Set(time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC))

	for _, tc := range []struct {
		month            bank.Month
		opening, closing bank.Money
		ids              []int64
	}{
		{"2025-12", open, open, nil},
		{"2026-01", open, jan.Balance, []int64{jan.TransactionID}},
		{"2026-02", jan.Balance, feb1.Balance, []int64{feb1.TransactionID}},
		{"2026-03", feb1.Balance, mar.Balance, []int64{mar.TransactionID}},
		{"2026-04", mar.Balance, mar.Balance, nil},
		{"2027-01", mar.Balance, mar.Balance, nil},
	} {
		st, err := m.Statement(bg, bank.StatementQuery{Limit: bank.MaxPageSize, Account: SeedAccount(i), Month: tc.month})
		if err != nil {
			t.Fatalf("Statement(%s): %v", tc.month, err)
		}
		var ids []int64
		for _, tx := range st.Transactions {
			ids = append(ids, tx.ID)
			if tx.Time.Location() != time.UTC || bank.MonthOf(tx.Time) != tc.month {
				t.Fatalf("%s: transaction time %v", tc.month, tx.Time)
			}
		}
		if st.Account != SeedAccount(i) || st.Month != tc.month || st.Opening != tc.opening || st.Closing != tc.closing || fmt.Sprint(ids) != fmt.Sprint(tc.ids) {
			t.Fatalf("Statement(%s) = opening %d closing %d ids %v; want %d %d %v", tc.month, st.Opening, st.Closing, ids, tc.opening, tc.closing, tc.ids)
		}
	}
	// The statement is a copy: changing it does not change the ledger.
	st, _ := m.Statement(bg, bank.StatementQuery{Limit: bank.MaxPageSize, Account: SeedAccount(i), Month: "2026-01"})
	st.Transactions[0].Amount = 1e9
	if st2, _ := m.Statement(bg, bank.StatementQuery{Limit: bank.MaxPageSize, Account: SeedAccount(i), Month: "2026-01"}); st2.Transactions[0].Amount != 100 {
		t.Fatalf("statement shares memory with the ledger")
	}
}

// When the clock steps back (or two deposits race for an account), the
// later transaction is never dated before the earlier one, so statements
// stay consistent.
func TestClockSteppingBack(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 2, 1, 0, 0, 1, 0, time.UTC))
	m := NewMemory(10, WithClock(clock.Now))
	first := deposit(t, m, 9, 100, "a")
	clock.Set(time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC))
	second := deposit(t, m, 9, 50, "b")
	jan, _ := m.Statement(bg, bank.StatementQuery{Limit: bank.MaxPageSize, Account: SeedAccount(9), Month: "2026-01"})
	feb, _ := m.Statement(bg, bank.StatementQuery{Limit: bank.MaxPageSize, Account: SeedAccount(9), Month: "2026-02"})
	if len(jan.Transactions) != 0 || jan.Closing != SeedBalance(9) {
		t.Fatalf("January = %+v, want empty", jan)
	}
	if len(feb.Transactions) != 2 || feb.Opening != SeedBalance(9) || feb.Closing != second.Balance || feb.Transactions[0].ID != first.TransactionID {
		t.Fatalf("February = %+v", feb)
	}
	if feb.Transactions[1].Time.Before(feb.Transactions[0].Time) {
		t.Fatalf("transactions out of time order: %+v", feb.Transactions)
	}
}

// Expired keys are dropped from memory, not only ignored.
func TestExpiredKeysAreFreed(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	m := NewMemory(10, WithClock(clock.Now), WithRetention(time.Minute))
	const n = 40 * keyShards
	for k := 0; k < n; k++ {
		deposit(t, m, 1+k%10, 1, fmt.Sprintf("key-%d", k))
	}
	clock.Advance(time.Minute)
	deposit(t, m, 1, 1, "after") // expiry happens on the way, shard by shard
	for i := range m.keys {
		s := &m.keys[i]
		s.mu.Lock()
		s.expire(clock.Now().UnixNano())
		left, queued := len(s.m), len(s.fifo)-s.head
		s.mu.Unlock()
		if left > 1 || queued > 1 {
			t.Fatalf("shard %d keeps %d keys, %d queued, after they expired", i, left, queued)
		}
	}
}

// A retention of zero remembers no completed key: every repeat applies
// again (only concurrent repeats are told apart, as in flight).
func TestZeroRetention(t *testing.T) {
	m := NewMemory(10, WithRetention(0))
	r1 := deposit(t, m, 1, 5, "k")
	r2 := deposit(t, m, 1, 5, "k")
	if r2.Replayed || r2.TransactionID == r1.TransactionID {
		t.Fatalf("zero retention replayed: %+v %+v", r1, r2)
	}
}

// A retention too long to add to the clock never expires, rather than
// wrapping around into the past.
func TestHugeRetention(t *testing.T) {
	m := NewMemory(10, WithRetention(time.Duration(1<<63-1)))
	r := deposit(t, m, 1, 5, "k")
	if again := deposit(t, m, 1, 5, "k"); !again.Replayed || again.TransactionID != r.TransactionID {
		t.Fatalf("huge retention did not replay: %+v", again)
	}
}
