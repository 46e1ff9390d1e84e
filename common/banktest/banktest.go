// Package banktest is the conformance suite of IGBank. Every transport's
// tests call Run with a Factory that starts a real server of that transport
// on loopback and returns a client connected to it; every store's tests call
// it with an in-process Factory and their own ledger. Each passes the whole
// suite; there are no private exceptions.
package banktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// Factory starts a server of one transport that serves srv on a loopback
// listener and returns a client of that transport connected to it. It
// registers the server's shutdown and the client's close with t.Cleanup.
type Factory func(t testing.TB, srv bank.Bank) bank.Bank

// InProcess is the Factory with no transport at all: the client is the
// server. Store tests use it.
func InProcess(_ testing.TB, srv bank.Bank) bank.Bank { return srv }

// Option configures Run.
type Option func(*config)

type config struct {
	newLedger func(t testing.TB, accounts int) bank.Ledger
}

// WithLedger makes the suite serve each subtest from a fresh ledger made by
// newLedger, which must seed accounts 1 to n as ledger.SeedAccount and
// ledger.SeedBalance say. The default is ledger.NewMemory.
func WithLedger(newLedger func(t testing.TB, n int) bank.Ledger) Option {
	return func(c *config) { c.newLedger = newLedger }
}

// Accounts is how many accounts the suite's ledgers are seeded with.
const Accounts = 100

// Run runs the conformance suite against clients made by newClient.
func Run(t *testing.T, newClient Factory, opts ...Option) {
	c := config{newLedger: func(_ testing.TB, n int) bank.Ledger { return ledger.NewMemory(n) }}
	for _, o := range opts {
		o(&c)
	}
	s := &suite{cfg: c, newClient: newClient}
	for _, tc := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"Balance", s.testBalance},
		{"UnknownAndMalformedAccount", s.testBadAccounts},
		{"StatementMalformedMonth", s.testBadMonth},
		{"DepositShowsInBalanceAndStatement", s.testDeposit},
		{"Replay", s.testReplay},
		{"KeyReusedWithDifferentRequest", s.testKeyReuse},
		{"SameKeyConcurrently", s.testSameKeyConcurrently},
		{"ManyDepositsConcurrently", s.testManyDeposits},
		{"BadAmounts", s.testBadAmounts},
		{"BadKeys", s.testBadKeys},
		{"CallerDeadline", s.testDeadline},
		{"EveryErrorCodeArrivesTyped", s.testErrorCodes},
		{"ErrorTextReadsAsOnTheServer", s.testErrorText},
		{"PagesConcatenate", s.testPagesConcatenate},
		{"PageSizeClamped", s.testPageSizeClamped},
		{"EmptyPages", s.testEmptyPages},
		{"BadPageTokens", s.testBadPageTokens},
	} {
		t.Run(tc.name, tc.f)
	}
}

type suite struct {
	cfg       config
	newClient Factory
}

// client starts a server over srv (or over a fresh ledger when srv is nil)
// and returns a client of it, and the server-side bank.
func (s *suite) client(t *testing.T, wrap func(bank.Bank) bank.Bank) bank.Bank {
	t.Helper()
	var srv bank.Bank = bank.NewService(s.cfg.newLedger(t, Accounts))
	if wrap != nil {
		srv = wrap(srv)
	}
	return s.newClient(t, srv)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func wantCode(t *testing.T, what string, err error, want *bank.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v (code %v), want code %v", what, err, bank.CodeOf(err), want.Code)
	}
}

func wantBalance(t *testing.T, c bank.Bank, i int, want bank.Money) {
	t.Helper()
	got, err := c.Balance(ctx(t), ledger.SeedAccount(i))
	if err != nil {
		t.Fatalf("Balance(%s): %v", ledger.SeedAccount(i), err)
	}
	if got != want {
		t.Fatalf("Balance(%s) = %d, want %d", ledger.SeedAccount(i), got, want)
	}
}

func (s *suite) testBalance(t *testing.T) {
	c := s.client(t, nil)
	for _, i := range []int{1, 2, 42, Accounts} {
		wantBalance(t, c, i, ledger.SeedBalance(i))
	}
}

func (s *suite) testBadAccounts(t *testing.T) {
	c := s.client(t, nil)
	unknown := ledger.SeedAccount(Accounts + 1)
	_, err := c.Balance(ctx(t), unknown)
	wantCode(t, "Balance of unknown account", err, bank.ErrNotFound)
	_, err = c.Statement(ctx(t), bank.StatementRequest{Account: unknown, Month: "2026-01"})
	wantCode(t, "Statement of unknown account", err, bank.ErrNotFound)
	_, err = c.Deposit(ctx(t), bank.DepositRequest{Account: unknown, Amount: 100, IdempotencyKey: "unknown-1"})
	wantCode(t, "Deposit to unknown account", err, bank.ErrNotFound)
	for _, acc := range []bank.AccountNo{"", "12345678", "1234567890", "00000000a", "-00000001", "00000 001", "٠٠٠٠٠٠٠٠١"} {
		_, err := c.Balance(ctx(t), acc)
		wantCode(t, fmt.Sprintf("Balance(%q)", acc), err, bank.ErrInvalidArgument)
		_, err = c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: "2026-01"})
		wantCode(t, fmt.Sprintf("Statement(%q)", acc), err, bank.ErrInvalidArgument)
		_, err = c.Deposit(ctx(t), bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: "bad-acc"})
		wantCode(t, fmt.Sprintf("Deposit(%q)", acc), err, bank.ErrInvalidArgument)
	}
}

func (s *suite) testBadMonth(t *testing.T) {
	c := s.client(t, nil)
	for _, m := range []bank.Month{"", "2026", "2026-13", "2026-00", "2026-1", "26-01", "2026/01", "2026-01-01"} {
		_, err := c.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: m})
		wantCode(t, fmt.Sprintf("Statement(month %q)", m), err, bank.ErrInvalidArgument)
	}
}

func (s *suite) testDeposit(t *testing.T) {
	c := s.client(t, nil)
	const i = 7
	acc, opening := ledger.SeedAccount(i), ledger.SeedBalance(i)
	r, err := c.Deposit(ctx(t), bank.DepositRequest{Account: acc, Amount: 12_345, IdempotencyKey: "deposit-1"})
	if err != nil {
		t.Fatalf("Deposit: %v", err)
	}
	if r.Balance != opening+12_345 || r.Replayed || r.TransactionID == 0 {
		t.Fatalf("receipt = %+v, want balance %d, not replayed, a transaction id", r, opening+12_345)
	}
	wantBalance(t, c, i, opening+12_345)
	r2, err := c.Deposit(ctx(t), bank.DepositRequest{Account: acc, Amount: 55, IdempotencyKey: "deposit-2"})
	if err != nil {
		t.Fatalf("second Deposit: %v", err)
	}
	month := bank.MonthOf(time.Now())
	st, err := c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month})
	if err != nil {
		t.Fatalf("Statement: %v", err)
	}
	if st.Account != acc || st.Month != month || st.Opening != opening || st.Closing != opening+12_400 {
		t.Fatalf("statement header = %s %s opening %d closing %d, want %s %s opening %d closing %d",
			st.Account, st.Month, st.Opening, st.Closing, acc, month, opening, opening+12_400)
	}
	if len(st.Transactions) != 2 {
		t.Fatalf("statement has %d transactions, want 2: %+v", len(st.Transactions), st.Transactions)
	}
	for k, want := range []struct {
		id      int64
		amount  bank.Money
		balance bank.Money
		idemKey string
	}{{r.TransactionID, 12_345, opening + 12_345, "deposit-1"}, {r2.TransactionID, 55, opening + 12_400, "deposit-2"}} {
		tx := st.Transactions[k]
		if tx.ID != want.id || tx.Amount != want.amount || tx.BalanceAfter != want.balance || tx.IdempotencyKey != want.idemKey {
			t.Fatalf("transaction %d = %+v, want id %d amount %d balance %d key %s", k, tx, want.id, want.amount, want.balance, want.idemKey)
		}
		if tx.Time.IsZero() || bank.MonthOf(tx.Time) != month || tx.Time.Location() != time.UTC {
			t.Fatalf("transaction %d time = %v, want a UTC time in %s", k, tx.Time, month)
		}
	}
	// A month with no activity has no transactions, and opening = closing.
	st, err = c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: "2001-01"})
	if err != nil || len(st.Transactions) != 0 || st.Opening != st.Closing {
		t.Fatalf("Statement(2001-01) = %+v, %v; want an empty statement", st, err)
	}
}

func (s *suite) testReplay(t *testing.T) {
	c := s.client(t, nil)
	req := bank.DepositRequest{Account: ledger.SeedAccount(3), Amount: 999, IdempotencyKey: "replay-me"}
	first, err := c.Deposit(ctx(t), req)
	if err != nil {
		t.Fatalf("Deposit: %v", err)
	}
	for n := 0; n < 3; n++ {
		again, err := c.Deposit(ctx(t), req)
		if err != nil {
			t.Fatalf("replay %d: %v", n, err)
		}
		if !again.Replayed || again.TransactionID != first.TransactionID || again.Balance != first.Balance {
			t.Fatalf("replay %d = %+v, want the first receipt %+v with Replayed set", n, again, first)
		}
	}
	wantBalance(t, c, 3, ledger.SeedBalance(3)+999)
}

func (s *suite) testKeyReuse(t *testing.T) {
	c := s.client(t, nil)
	req := bank.DepositRequest{Account: ledger.SeedAccount(4), Amount: 100, IdempotencyKey: "reused"}
	if _, err := c.Deposit(ctx(t), req); err != nil {
		t.Fatalf("Deposit: %v", err)
	}
	other := req
	other.Amount = 200
	_, err := c.Deposit(ctx(t), other)
	wantCode(t, "same key, other amount", err, bank.ErrIdempotencyKeyReuse)
	other = req
	other.Account = ledger.SeedAccount(5)
	_, err = c.Deposit(ctx(t), other)
	wantCode(t, "same key, other account", err, bank.ErrIdempotencyKeyReuse)
	wantBalance(t, c, 4, ledger.SeedBalance(4)+100)
	wantBalance(t, c, 5, ledger.SeedBalance(5))
}

func (s *suite) testSameKeyConcurrently(t *testing.T) {
	c := s.client(t, nil)
	const n = 50
	req := bank.DepositRequest{Account: ledger.SeedAccount(9), Amount: 1_000, IdempotencyKey: "fifty-at-once"}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		receipts []bank.DepositReceipt
		errs     []error
	)
	start := make(chan struct{})
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := c.Deposit(ctx(t), req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			receipts = append(receipts, r)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		wantCode(t, "concurrent deposit with one key", err, bank.ErrInFlight)
	}
	final, err := c.Deposit(ctx(t), req)
	if err != nil {
		t.Fatalf("Deposit after the storm: %v", err)
	}
	fresh := 0
	for _, r := range append(receipts, final) {
		if r.TransactionID != final.TransactionID || r.Balance != final.Balance {
			t.Fatalf("receipts differ: %+v and %+v", r, final)
		}
		if !r.Replayed {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d receipts were not replays, want exactly 1", fresh)
	}
	wantBalance(t, c, 9, ledger.SeedBalance(9)+1_000)
	st, err := c.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(9), Month: bank.MonthOf(time.Now())})
	if err != nil || len(st.Transactions) != 1 {
		t.Fatalf("statement = %+v, %v; want exactly one transaction", st, err)
	}
}

func (s *suite) testManyDeposits(t *testing.T) {
	c := s.client(t, nil)
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errc := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				acc := ledger.SeedAccount(10 + k%3)
				_, err := c.Deposit(ctx(t), bank.DepositRequest{Account: acc, Amount: bank.Money(w + 1), IdempotencyKey: fmt.Sprintf("many-%d-%d", w, k)})
				if err != nil {
					errc <- err
					return
				}
				if _, err := c.Balance(ctx(t), acc); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("concurrent calls: %v", err)
	}
	var sum bank.Money
	txs := 0
	for k := 0; k < 3; k++ {
		b, err := c.Balance(ctx(t), ledger.SeedAccount(10+k))
		if err != nil {
			t.Fatal(err)
		}
		sum += b - ledger.SeedBalance(10+k)
		st, err := bank.ReadStatement(ctx(t), c, bank.StatementRequest{Account: ledger.SeedAccount(10 + k), Month: bank.MonthOf(time.Now())})
		if err != nil {
			t.Fatal(err)
		}
		txs += len(st.Transactions)
		if st.Closing != b {
			t.Fatalf("statement closing %d != balance %d", st.Closing, b)
		}
	}
	if want := bank.Money(each * workers * (workers + 1) / 2); sum != want || txs != workers*each {
		t.Fatalf("deposited %d in %d transactions, want %d in %d", sum, txs, want, workers*each)
	}
}

func (s *suite) testBadAmounts(t *testing.T) {
	c := s.client(t, nil)
	for _, amount := range []bank.Money{0, -1, -bank.MaxDeposit, bank.MaxDeposit + 1, bank.MaxBalance, -bank.MaxBalance - 1} {
		_, err := c.Deposit(ctx(t), bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: amount, IdempotencyKey: fmt.Sprintf("amount-%d", amount)})
		wantCode(t, fmt.Sprintf("Deposit of %d cents", amount), err, bank.ErrInvalidArgument)
	}
	wantBalance(t, c, 2, ledger.SeedBalance(2))
	// The largest allowed amount works; a rejected key was not consumed.
	if _, err := c.Deposit(ctx(t), bank.DepositRequest{Account: ledger.SeedAccount(2), Amount: bank.MaxDeposit, IdempotencyKey: "amount-0"}); err != nil {
		t.Fatalf("Deposit of MaxDeposit: %v", err)
	}
	wantBalance(t, c, 2, ledger.SeedBalance(2)+bank.MaxDeposit)
}

func (s *suite) testBadKeys(t *testing.T) {
	c := s.client(t, nil)
	for _, key := range []string{"", strings.Repeat("k", bank.MaxKeyLen+1), "has space", "tab\there", "nul\x00", "é-accent", "new\nline"} {
		_, err := c.Deposit(ctx(t), bank.DepositRequest{Account: ledger.SeedAccount(6), Amount: 10, IdempotencyKey: key})
		wantCode(t, fmt.Sprintf("Deposit with key %q", key), err, bank.ErrInvalidArgument)
	}
	wantBalance(t, c, 6, ledger.SeedBalance(6))
	if _, err := c.Deposit(ctx(t), bank.DepositRequest{Account: ledger.SeedAccount(6), Amount: 10, IdempotencyKey: strings.Repeat("k", bank.MaxKeyLen)}); err != nil {
		t.Fatalf("Deposit with a %d-byte key: %v", bank.MaxKeyLen, err)
	}
}

func (s *suite) testDeadline(t *testing.T) {
	slow := &Slow{Delay: 3 * time.Second}
	c := s.client(t, func(b bank.Bank) bank.Bank { slow.Bank = b; return slow })
	t.Cleanup(slow.Release) // before the server's shutdown, which runs later
	const deadline = 200 * time.Millisecond
	for _, call := range []struct {
		name string
		f    func(context.Context) error
	}{
		{"Balance", func(c2 context.Context) error { _, err := c.Balance(c2, ledger.SeedAccount(1)); return err }},
		{"Statement", func(c2 context.Context) error {
			_, err := c.Statement(c2, bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"})
			return err
		}},
		{"Deposit", func(c2 context.Context) error {
			_, err := c.Deposit(c2, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 5, IdempotencyKey: "slow"})
			return err
		}},
	} {
		c2, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		err := call.f(c2)
		elapsed := time.Since(start)
		cancel()
		wantCode(t, call.name+" past the caller's deadline", err, bank.ErrDeadlineExceeded)
		// Generous bound: the point is that the client does not wait for
		// the 3 s server, not how fast it gives up.
		if elapsed > slow.Delay/2 {
			t.Fatalf("%s returned after %v; the deadline was %v", call.name, elapsed, deadline)
		}
	}
	// A canceled caller gets Canceled, not Unavailable.
	c2, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Balance(c2, ledger.SeedAccount(1))
	wantCode(t, "Balance canceled by the caller", err, bank.ErrCanceled)
}

func (s *suite) testErrorCodes(t *testing.T) {
	f := &Failing{}
	c := s.client(t, func(b bank.Bank) bank.Bank { f.Bank = b; return f })
	for _, code := range bank.Codes() {
		if code == bank.Canceled {
			continue // a server never reports that the caller canceled
		}
		f.Set(bank.Errorf(code, "injected %s", code))
		sentinel := bank.FromCode(code, "").(*bank.Error)
		sentinel.Message = ""
		_, err := c.Balance(ctx(t), ledger.SeedAccount(1))
		wantCode(t, "Balance failing with "+code.String(), err, sentinel)
		_, err = c.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"})
		wantCode(t, "Statement failing with "+code.String(), err, sentinel)
		_, err = c.Deposit(ctx(t), bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 1, IdempotencyKey: "k-" + code.String()})
		wantCode(t, "Deposit failing with "+code.String(), err, sentinel)
		if !strings.Contains(err.Error(), "injected "+code.String()) {
			t.Fatalf("error %q lost the server's message", err)
		}
	}
	f.Set(nil)
	wantBalance(t, c, 1, ledger.SeedBalance(1))
}

// testErrorText: a server-side *bank.Error reads the same at the client
// through every transport, but for what the server keeps to itself. The
// server sends the code in the transport's own form and the text
// bank.Detail(err) (message and cause, without the code); the client
// rebuilds bank.FromCode(code, text). So the client's err.Error() is
// bank.FromCode(code, bank.Detail(serverErr)).Error(), which for a
// *bank.Error of a known code is serverErr.Error() itself ("not_found: no
// such account", "not_found: connection refused", "not_found: no such
// account: connection refused", "not_found" with neither message nor
// cause), except that an Internal or Unavailable error arrives without its
// cause ("unavailable: store down", never the store's address). Every code
// is checked, Canceled and DeadlineExceeded included (sent by the server
// while the caller's context is still live); there are no exclusions. The
// texts are short: raw-sockets cuts error text at 1,024 bytes. The cause's
// identity does not travel (errors.Is(err, cause) is false at the client);
// only its text does, and only for the caller's errors.
func (s *suite) testErrorText(t *testing.T) {
	f := &Failing{}
	c := s.client(t, func(b bank.Bank) bank.Bank { f.Bank = b; return f })
	overWire := c != bank.Bank(f) // InProcess hands back the server itself
	cause := errors.New("connection refused")
	for _, code := range bank.Codes() {
		msg := "injected " + code.String()
		for _, serverErr := range []*bank.Error{
			{Code: code, Message: msg},
			{Code: code, Err: cause},
			{Code: code, Message: msg, Err: cause},
			{Code: code},
		} {
			want := bank.FromCode(code, bank.Detail(serverErr)).Error()
			if !overWire {
				want = serverErr.Error()
			}
			public := serverErr
			if code == bank.Internal || code == bank.Unavailable {
				public = &bank.Error{Code: code, Message: serverErr.Message}
			}
			if overWire && want != public.Error() { // the contract the transports rely on
				t.Fatalf("bank.FromCode(%v, bank.Detail(%q)) reads %q", code, serverErr, want)
			}
			f.Set(serverErr)
			_, err := c.Balance(ctx(t), ledger.SeedAccount(1))
			wantText(t, "Balance", serverErr, err, want)
			_, err = c.Statement(ctx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"})
			wantText(t, "Statement", serverErr, err, want)
			_, err = c.Deposit(ctx(t), bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 1, IdempotencyKey: "text-" + code.String()})
			wantText(t, "Deposit", serverErr, err, want)
		}
	}
	f.Set(nil)
	wantBalance(t, c, 1, ledger.SeedBalance(1))
}

func wantText(t *testing.T, call string, serverErr, err error, want string) {
	t.Helper()
	if bank.CodeOf(err) != bank.CodeOf(serverErr) || err.Error() != want {
		t.Errorf("%s failing with server error %q: client got %q (code %v), want %q", call, serverErr, err, bank.CodeOf(err), want)
	}
}
