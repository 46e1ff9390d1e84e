package banktest

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// RewritePageToken returns tok with its decoded bytes changed by edit and
// its checksum made right again: a well-formed token the server never
// issued, such as one of an unknown version (byte 0). It is how the suite
// forges tokens; the layout is bank's (pagetoken.go).
func RewritePageToken(tok string, edit func(b []byte)) string {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 5 {
		panic(fmt.Sprintf("banktest: %q is not a page token", tok))
	}
	edit(b)
	n := len(b) - 4
	binary.BigEndian.PutUint32(b[n:], crc32.Checksum(b[:n], crc32.MakeTable(crc32.Castagnoli)))
	return base64.RawURLEncoding.EncodeToString(b)
}

// pagingClient starts a server over a fresh ledger and returns a client of
// it and the server's own Service, through which a test seeds transactions
// in process, without a call per transaction.
func (s *suite) pagingClient(t *testing.T) (client, server bank.Bank) {
	server = bank.NewService(s.cfg.newLedger(t, Accounts))
	return s.newClient(t, server), server
}

// seed deposits n transactions of 1, 2, ... n cents on account i, straight
// into server, a few at a time, and returns the month they fall in.
func seed(t *testing.T, server bank.Bank, i, n int) bank.Month {
	t.Helper()
	month := bank.MonthOf(time.Now())
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < n; k += 8 {
				_, err := server.Deposit(ctx(t), bank.DepositRequest{Account: ledger.SeedAccount(i), Amount: bank.Money(k + 1), IdempotencyKey: fmt.Sprintf("seed-%d-%d", i, k)})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("seeding %d deposits: %v", n, err)
	}
	if m := bank.MonthOf(time.Now()); m != month {
		t.Skipf("the month turned (%s to %s) while seeding", month, m)
	}
	return month
}

func (s *suite) testPagesConcatenate(t *testing.T) {
	c, server := s.pagingClient(t)
	const n = 25
	month := seed(t, server, 7, n)
	acc := ledger.SeedAccount(7)
	whole, err := server.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month, PageSize: bank.MaxPageSize})
	if err != nil || len(whole.Transactions) != n || whole.NextPageToken != "" {
		t.Fatalf("server's whole month = %d transactions, token %q, %v", len(whole.Transactions), whole.NextPageToken, err)
	}
	opening := ledger.SeedBalance(7)
	if whole.Opening != opening || whole.Closing != opening+n*(n+1)/2 {
		t.Fatalf("month's balances = %d, %d; want %d, %d", whole.Opening, whole.Closing, opening, opening+n*(n+1)/2)
	}
	for _, size := range []int{1, 7, n, 0} {
		req := bank.StatementRequest{Account: acc, Month: month, PageSize: size}
		want := size
		if size == 0 {
			want = bank.DefaultPageSize
		}
		var got []bank.Transaction
		seen := map[int64]bool{}
		for page := 0; ; page++ {
			if page > n {
				t.Fatalf("page size %d: more than %d pages", size, n)
			}
			p, err := c.Statement(ctx(t), req)
			if err != nil {
				t.Fatalf("page size %d, page %d: %v", size, page, err)
			}
			if p.Account != acc || p.Month != month || p.Opening != whole.Opening || p.Closing != whole.Closing {
				t.Fatalf("page size %d, page %d: header %s %s %d %d, want the month's %s %s %d %d", size, page,
					p.Account, p.Month, p.Opening, p.Closing, acc, month, whole.Opening, whole.Closing)
			}
			if len(p.Transactions) > want || (p.NextPageToken != "" && len(p.Transactions) != want) {
				t.Fatalf("page size %d, page %d: %d transactions, token %q", size, page, len(p.Transactions), p.NextPageToken)
			}
			for _, tx := range p.Transactions {
				if seen[tx.ID] {
					t.Fatalf("page size %d: transaction %d twice", size, tx.ID)
				}
				seen[tx.ID] = true
			}
			got = append(got, p.Transactions...)
			if p.NextPageToken == "" {
				break
			}
			req.PageToken = p.NextPageToken
		}
		if len(got) != n {
			t.Fatalf("page size %d: %d transactions in all, want %d", size, len(got), n)
		}
		balance := opening
		for k, tx := range got {
			// Keys are not compared: under authorization, a key shows only
			// to the principal that made it, and the seed made these.
			w := whole.Transactions[k]
			if tx.ID != w.ID || !tx.Time.Equal(w.Time) || tx.Amount != w.Amount || tx.BalanceAfter != w.BalanceAfter {
				t.Fatalf("page size %d: transaction %d = %+v, want %+v", size, k, tx, w)
			}
			if balance += tx.Amount; tx.BalanceAfter != balance {
				t.Fatalf("page size %d: transaction %d balance after %d, want %d", size, k, tx.BalanceAfter, balance)
			}
		}
	}
	all, err := bank.ReadStatement(ctx(t), c, bank.StatementRequest{Account: acc, Month: month, PageSize: 4})
	if err != nil || len(all.Transactions) != n || all.Opening != whole.Opening || all.Closing != whole.Closing {
		t.Fatalf("ReadStatement = %d transactions, %d, %d, %v", len(all.Transactions), all.Opening, all.Closing, err)
	}
}

func (s *suite) testPageSizeClamped(t *testing.T) {
	c, server := s.pagingClient(t)
	const n = bank.MaxPageSize + 3
	month := seed(t, server, 8, n)
	acc := ledger.SeedAccount(8)
	for _, size := range []int{bank.MaxPageSize + 1, 1 << 40} {
		p, err := c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month, PageSize: size})
		if err != nil || len(p.Transactions) != bank.MaxPageSize || p.NextPageToken == "" {
			t.Fatalf("page size %d: %d transactions, token %q, %v; want %d and a token", size, len(p.Transactions), p.NextPageToken, err, bank.MaxPageSize)
		}
		last, err := c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month, PageSize: size, PageToken: p.NextPageToken})
		if err != nil || len(last.Transactions) != n-bank.MaxPageSize || last.NextPageToken != "" {
			t.Fatalf("page size %d, second page: %d transactions, token %q, %v; want %d and no token", size, len(last.Transactions), last.NextPageToken, err, n-bank.MaxPageSize)
		}
		if last.Opening != p.Opening || last.Closing != p.Closing || last.Closing != ledger.SeedBalance(8)+n*(n+1)/2 {
			t.Fatalf("balances differ between pages or are wrong: %d %d, %d %d", p.Opening, p.Closing, last.Opening, last.Closing)
		}
	}
	_, err := c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month, PageSize: -1})
	wantCode(t, "page size -1", err, bank.ErrInvalidArgument)
}

func (s *suite) testEmptyPages(t *testing.T) {
	c, server := s.pagingClient(t)
	acc := ledger.SeedAccount(6)
	// A month with no activity: one empty page, no token.
	p, err := c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: "2001-01", PageSize: 1})
	if err != nil || len(p.Transactions) != 0 || p.NextPageToken != "" || p.Opening != ledger.SeedBalance(6) || p.Closing != p.Opening {
		t.Fatalf("empty month = %+v, %v; want one empty page with the seed balance and no token", p, err)
	}
	// A page that ends exactly at the month's end has no token.
	month := seed(t, server, 6, 3)
	p, err = c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month, PageSize: 3})
	if err != nil || len(p.Transactions) != 3 || p.NextPageToken != "" {
		t.Fatalf("exact last page = %d transactions, token %q, %v; want 3 and no token", len(p.Transactions), p.NextPageToken, err)
	}
	// An out-of-date token, past the last transaction: an empty last page.
	first, err := c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month, PageSize: 1})
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page = %+v, %v; want a token", first, err)
	}
	late := RewritePageToken(first.NextPageToken, func(b []byte) {
		binary.BigEndian.PutUint64(b[8:], uint64(time.Now().Add(24*time.Hour).UnixNano()))
	})
	p, err = c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month, PageToken: late})
	if err != nil || len(p.Transactions) != 0 || p.NextPageToken != "" || p.Closing != first.Closing {
		t.Fatalf("token past the end = %+v, %v; want an empty last page", p, err)
	}
}

func (s *suite) testBadPageTokens(t *testing.T) {
	c, server := s.pagingClient(t)
	month := seed(t, server, 5, 3)
	acc := ledger.SeedAccount(5)
	p, err := c.Statement(ctx(t), bank.StatementRequest{Account: acc, Month: month, PageSize: 1})
	if err != nil || p.NextPageToken == "" {
		t.Fatalf("first page = %+v, %v; want a token", p, err)
	}
	tok := p.NextPageToken
	flipped := []byte(tok)
	flipped[12] = map[bool]byte{true: 'A', false: 'B'}[flipped[12] != 'A']
	otherMonth := "2001-01"
	if month == "2001-01" {
		otherMonth = "2001-02"
	}
	for _, tc := range []struct {
		name string
		req  bank.StatementRequest
		msg  string
	}{
		{"garbled", bank.StatementRequest{Account: acc, Month: month, PageToken: "garbled token!"}, "malformed"},
		{"truncated", bank.StatementRequest{Account: acc, Month: month, PageToken: tok[:len(tok)-2]}, "malformed"},
		{"one character changed", bank.StatementRequest{Account: acc, Month: month, PageToken: string(flipped)}, "checksum"},
		{"too long", bank.StatementRequest{Account: acc, Month: month, PageToken: strings.Repeat(tok, 4)}, "page token"},
		{"unknown version", bank.StatementRequest{Account: acc, Month: month, PageToken: RewritePageToken(tok, func(b []byte) { b[0] = 99 })}, "version 99"},
		{"forged for another account", bank.StatementRequest{Account: acc, Month: month, PageToken: RewritePageToken(tok, func(b []byte) { binary.BigEndian.PutUint32(b[1:], 4) })}, "another account"},
		{"another account's", bank.StatementRequest{Account: ledger.SeedAccount(4), Month: month, PageToken: tok}, "another account"},
		{"another month's", bank.StatementRequest{Account: acc, Month: bank.Month(otherMonth), PageToken: tok}, "month"},
	} {
		_, err := c.Statement(ctx(t), tc.req)
		wantCode(t, "token "+tc.name, err, bank.ErrInvalidArgument)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("token %s: error %q does not say %q", tc.name, err, tc.msg)
		}
	}
}
