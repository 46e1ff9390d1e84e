package rawbank

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// A client of revision 1.0 or 1.1 asks for a statement with op 2, whose
// reply cannot say that more follows: a 1.2 server answers it with the
// whole month when the month fits in one page of bank.MaxPageSize, and
// with invalid_argument (never unavailable or internal, never a month cut
// short) when it does not. Op 5 pages through the same month.
func TestStatementOpOfOlderRevisions(t *testing.T) {
	l := ledger.NewMemory(3)
	svc := bank.NewService(l)
	ctx := context.Background()
	deposit := func(acc bank.AccountNo, n int) {
		for k := range n {
			if _, err := svc.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: fmt.Sprint(acc, "-", k)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	small, large := ledger.SeedAccount(1), ledger.SeedAccount(2)
	deposit(small, bank.MaxPageSize)
	deposit(large, bank.MaxPageSize+1)
	month := bank.MonthOf(time.Now())
	addr := startServer(t, func(bank.Bank) bank.Bank { return svc })
	nc := rawDial(t, addr)
	fr := newFrameReader(nc, 4096, MaxReplyFrame)

	nc.Write(frame(Version, OpStatement, 1, appendStatementRequest(nil, small, month)))
	r := readOne(t, fr)
	st, err := decodeStatementReply(r.payload, small, month, false)
	if r.h.Status != bank.OK || err != nil || len(st.Transactions) != bank.MaxPageSize || st.Closing != ledger.SeedBalance(1)+bank.MaxPageSize {
		t.Fatalf("op 2 for %d transactions: status %v, %d transactions, %v", bank.MaxPageSize, r.h.Status, len(st.Transactions), err)
	}
	nc.Write(frame(Version, OpStatement, 2, appendStatementRequest(nil, large, month)))
	r = readOne(t, fr)
	if r.h.Status != bank.InvalidArgument || r.h.ID != 2 || !strings.Contains(string(r.payload), "op 5") {
		t.Fatalf("op 2 for %d transactions: %+v %q, want invalid_argument naming op 5", bank.MaxPageSize+1, r.h, r.payload)
	}
	// The connection goes on, and op 5 reads the long month in pages.
	c := dialClient(t, addr)
	all, err := bank.ReadStatement(ctx, c, bank.StatementRequest{Account: large, Month: month, PageSize: 600})
	if err != nil || len(all.Transactions) != bank.MaxPageSize+1 {
		t.Fatalf("op 5 pages: %d transactions, %v", len(all.Transactions), err)
	}
}

// A 1.2 client's statement to a server of revision 1.1 (which answers op
// 5 as an unknown op) fails with that server's invalid_argument, at once.
func TestStatementPageToAnOlderServer(t *testing.T) {
	old := fakeServer(t, func(h Header) []byte {
		return finishFrame(appendErrorMessage(beginFrame(nil, h.Op|ReplyBit, bank.InvalidArgument), "unknown op 5: this server speaks version 1.1 (ops 1 to 4)"), h.ID, 0)
	})
	c := dialClient(t, old)
	_, err := c.Statement(context.Background(), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-11"})
	if !errors.Is(err, bank.ErrInvalidArgument) || !strings.Contains(err.Error(), "unknown op 5") {
		t.Fatalf("a statement to a 1.1 server: %v", err)
	}
}
