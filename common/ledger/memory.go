package ledger

import (
	"context"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// Memory is the in-memory ledger. Accounts are created at construction and
// never added, so looking one up takes no lock (account i is element i-1
// of a slice: no hashing); each account has its own mutex, and idempotency
// keys live in a sharded map, so the ledger is never the bottleneck of a
// transport benchmark. It forgets everything when the process exits.
type Memory struct {
	accounts  []account
	keys      [keyShards]keyShard
	seed      maphash.Seed
	lastID    atomic.Int64
	now       func() time.Time
	retention time.Duration
}

// MemoryOption configures a Memory ledger.
type MemoryOption func(*Memory)

// WithClock sets the clock used for transaction times and key expiry;
// tests inject a fake one.
func WithClock(now func() time.Time) MemoryOption { return func(m *Memory) { m.now = now } }

// WithRetention sets how long an idempotency key is remembered (default
// DefaultRetention).
func WithRetention(d time.Duration) MemoryOption { return func(m *Memory) { m.retention = d } }

// NewMemory returns a ledger seeded with accounts SeedAccount(1) to
// SeedAccount(n), each with its SeedBalance.
func NewMemory(n int, opts ...MemoryOption) *Memory {
	m := &Memory{
		accounts:  make([]account, max(n, 0)),
		seed:      maphash.MakeSeed(),
		now:       time.Now,
		retention: DefaultRetention,
	}
	for _, o := range opts {
		o(m)
	}
	for i := range m.accounts {
		a := &m.accounts[i]
		a.opening = SeedBalance(i + 1)
		a.balance.Store(int64(a.opening))
	}
	for i := range m.keys {
		m.keys[i].m = make(map[string]keyEntry)
	}
	return m
}

type account struct {
	balance atomic.Int64 // written under mu, read without it
	mu      sync.Mutex
	opening bank.Money
	txs     []bank.Transaction // in the order applied, which is time order
	_       [16]byte           // one account per 64-byte cache line
}

const keyShards = 256

type keyShard struct {
	mu sync.Mutex
	m  map[string]keyEntry
	// fifo holds completed keys in completion order. With a constant
	// retention that is also expiry order, so expiring is a pop from the
	// front, amortised O(1), with no sweeper goroutine.
	fifo []fifoItem
	head int
}

// keyEntry is stored by value in its shard's map: no allocation per key,
// and no pointer for the garbage collector to follow.
type keyEntry struct {
	account int32 // the fingerprint: account (its index) and amount
	amount  bank.Money
	done    bool // false while the deposit is being applied
	receipt bank.DepositReceipt
	expires int64 // Unix nanoseconds
}

type fifoItem struct {
	key     string
	expires int64
}

func (s *keyShard) expire(now int64) {
	for s.head < len(s.fifo) && now >= s.fifo[s.head].expires {
		it := s.fifo[s.head]
		// The key may have expired and been used again since: what is
		// removed is the current entry, and only if it has expired too.
		if e, ok := s.m[it.key]; ok && e.done && now >= e.expires {
			delete(s.m, it.key)
		}
		s.fifo[s.head] = fifoItem{}
		s.head++
	}
	if s.head > 64 && s.head*2 > len(s.fifo) {
		n := copy(s.fifo, s.fifo[s.head:])
		clear(s.fifo[n:])
		s.fifo = s.fifo[:n]
		s.head = 0
	}
}

func (m *Memory) shard(key string) *keyShard {
	return &m.keys[maphash.String(m.seed, key)%keyShards]
}

// account returns the account acc and its index.
func (m *Memory) account(acc bank.AccountNo) (*account, int32, error) {
	i, ok := SeedIndex(acc)
	if !ok || i > len(m.accounts) {
		return nil, 0, bank.Errorf(bank.NotFound, "account %s does not exist", acc)
	}
	return &m.accounts[i-1], int32(i - 1), nil
}

// Balance implements bank.Ledger.
func (m *Memory) Balance(_ context.Context, acc bank.AccountNo) (bank.Money, error) {
	a, _, err := m.account(acc)
	if err != nil {
		return 0, err
	}
	return bank.Money(a.balance.Load()), nil
}

// Statement implements bank.Ledger.
func (m *Memory) Statement(_ context.Context, q bank.StatementQuery) (bank.Statement, error) {
	a, _, err := m.account(q.Account)
	if err != nil {
		return bank.Statement{}, err
	}
	start, end, err := q.Month.Range()
	if err != nil {
		return bank.Statement{}, err
	}
	st := bank.Statement{Account: q.Account, Month: q.Month}
	a.mu.Lock()
	defer a.mu.Unlock()
	// a.txs is in time order, and in ID order among equal times (see
	// Deposit), so the month is a range found by binary search, whatever
	// the account's history, and so is the page after a cursor.
	i, _ := slices.BinarySearchFunc(a.txs, start, func(tx bank.Transaction, t time.Time) int { return tx.Time.Compare(t) })
	j, _ := slices.BinarySearchFunc(a.txs[i:], end, func(tx bank.Transaction, t time.Time) int { return tx.Time.Compare(t) })
	month := a.txs[i : i+j]
	st.Opening = a.opening
	if i > 0 {
		st.Opening = a.txs[i-1].BalanceAfter
	}
	st.Closing = st.Opening
	if j > 0 {
		st.Closing = month[j-1].BalanceAfter
	}
	k := 0
	if q.After != nil {
		k = sort.Search(len(month), func(k int) bool { return q.After.Before(month[k]) })
	}
	if rest := month[k:]; len(rest) > 0 {
		st.Transactions = slices.Clone(rest[:min(len(rest), q.Limit+1)])
	}
	return st, nil
}

// Deposit implements bank.Ledger. The key is claimed first (in flight), the
// account is updated under its own lock, then the key is completed with the
// receipt; a concurrent repeat of the key sees InFlight in between, and a
// failed deposit releases the key so that a retry can apply it.
func (m *Memory) Deposit(_ context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	a, ai, err := m.account(req.Account)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	at := m.now().UTC()
	now := at.UnixNano()
	s := m.shard(req.IdempotencyKey)
	s.mu.Lock()
	s.expire(now)
	if e, ok := s.m[req.IdempotencyKey]; ok && (!e.done || now < e.expires) {
		defer s.mu.Unlock()
		switch {
		case e.account != ai || e.amount != req.Amount:
			return bank.DepositReceipt{}, bank.Errorf(bank.IdempotencyKeyReuse,
				"idempotency key was used for a different deposit")
		case !e.done:
			return bank.DepositReceipt{}, bank.Errorf(bank.InFlight,
				"a deposit with this idempotency key is still being applied")
		}
		r := e.receipt
		r.Replayed = true
		return r, nil
	}
	e := keyEntry{account: ai, amount: req.Amount}
	s.m[req.IdempotencyKey] = e
	s.mu.Unlock()

	a.mu.Lock()
	balance, err := bank.AddBalance(bank.Money(a.balance.Load()), req.Amount)
	if err != nil {
		a.mu.Unlock()
		s.mu.Lock()
		delete(s.m, req.IdempotencyKey) // still ours: in flight, nobody else replaces it
		s.mu.Unlock()
		return bank.DepositReceipt{}, err
	}
	// The transaction is never dated before the account's previous one,
	// so that a.txs is in time order (Statement relies on it) even when
	// two deposits race to the lock or the wall clock steps back.
	if n := len(a.txs); n > 0 && at.Before(a.txs[n-1].Time) {
		at = a.txs[n-1].Time
	}
	tx := bank.Transaction{
		ID:             m.lastID.Add(1),
		Time:           at,
		Amount:         req.Amount,
		BalanceAfter:   balance,
		IdempotencyKey: req.IdempotencyKey,
	}
	a.txs = append(a.txs, tx)
	a.balance.Store(int64(balance))
	a.mu.Unlock()

	receipt := bank.DepositReceipt{TransactionID: tx.ID, Balance: balance}
	s.mu.Lock()
	expires := now + int64(m.retention)
	if expires < now {
		expires = math.MaxInt64 // a retention of centuries: never
	}
	e.done, e.receipt, e.expires = true, receipt, expires
	s.m[req.IdempotencyKey] = e
	s.fifo = append(s.fifo, fifoItem{key: req.IdempotencyKey, expires: expires})
	s.mu.Unlock()
	return receipt, nil
}
