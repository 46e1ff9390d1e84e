package transports_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// monthTxs is how many transactions the account of TestLongStatement
// has in one month: a month that no single reply of any transport could
// carry before statements were paged (Thrift's 1 MiB frame held about
// 4,000, gRPC's, Connect's and REST's 16 MiB about 58,000).
const monthTxs = 100_000

// TestLongStatement reads a month of 100,000 transactions completely
// through every transport variant, real server and client on loopback,
// in pages of bank.MaxPageSize, and checks count, order and balances.
//
// The last page holds bank.MaxPageSize transactions of the largest size a
// ledger stores (a key scoped to a principal: 128 + 1 + 255 bytes, of the
// characters JSON must escape), so that every transport also shows that
// a page of the largest size fits its reply limit; the arithmetic is in
// docs/architecture.md, "Statements in pages". No page may come back
// unavailable (or anything else) because of its size.
func TestLongStatement(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := start
	l := ledger.NewMemory(3, ledger.WithClock(func() time.Time { return now }))
	srv := bank.NewService(l)
	ctx := context.Background()
	acc := ledger.SeedAccount(2)
	bigScope := strings.Repeat(`\`, bank.MaxScopeLen)
	for k := range monthTxs {
		if k%7 == 0 {
			now = now.Add(time.Millisecond) // runs of seven share a time: ties go by id
		}
		key := fmt.Sprint("long-", k)
		if k >= monthTxs-bank.MaxPageSize {
			key = bank.ScopeKey(bigScope, strings.Repeat(`"`, bank.MaxKeyLen-6)+fmt.Sprintf("%06d", k%1_000_000))
		}
		if _, err := srv.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: bank.Money(k%1000 + 1), IdempotencyKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	month := bank.MonthOf(start)
	opening := ledger.SeedBalance(2)
	want, err := srv.Balance(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range transports.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			c := banktest.Transport(v.ServerFunc(transport.ServerConfig{}), v.DialFunc(transport.ClientConfig{}))(t, srv)
			req := bank.StatementRequest{Account: acc, Month: month, PageSize: bank.MaxPageSize}
			n, pages := 0, 0
			balance := opening
			var last bank.Transaction
			for {
				callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
				p, err := c.Statement(callCtx, req)
				cancel()
				if err != nil {
					t.Fatalf("page %d (after %d transactions): %v", pages, n, err)
				}
				pages++
				if p.Opening != opening || p.Closing != want || len(p.Transactions) > bank.MaxPageSize {
					t.Fatalf("page %d: opening %d closing %d, %d transactions; want %d, %d, at most %d",
						pages, p.Opening, p.Closing, len(p.Transactions), opening, want, bank.MaxPageSize)
				}
				for _, tx := range p.Transactions {
					if n > 0 && !(bank.Cursor{Time: last.Time, ID: last.ID}).Before(tx) {
						t.Fatalf("transaction %d (%d at %v) does not follow %d at %v", n, tx.ID, tx.Time, last.ID, last.Time)
					}
					balance += tx.Amount
					if tx.Amount != bank.Money(n%1000+1) || tx.BalanceAfter != balance || bank.MonthOf(tx.Time) != month {
						t.Fatalf("transaction %d = %+v, want amount %d, balance after %d", n, tx, n%1000+1, balance)
					}
					last = tx
					n++
				}
				if p.NextPageToken == "" {
					break
				}
				req.PageToken = p.NextPageToken
			}
			if n != monthTxs || pages != monthTxs/bank.MaxPageSize || balance != want {
				t.Fatalf("read %d transactions in %d pages, balance %d; want %d in %d, %d", n, pages, balance, monthTxs, monthTxs/bank.MaxPageSize, want)
			}
			if !strings.HasSuffix(last.IdempotencyKey, fmt.Sprintf("%06d", monthTxs-1)) || len(last.IdempotencyKey) != bank.MaxScopeLen+1+bank.MaxKeyLen {
				t.Fatalf("last transaction's key is %d bytes (%.20q...), want the largest, %d", len(last.IdempotencyKey), last.IdempotencyKey, bank.MaxScopeLen+1+bank.MaxKeyLen)
			}
		})
	}
}
