package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// pageLog records the statement requests a bank receives.
type pageLog struct {
	bank.Bank
	reqs []bank.StatementRequest
}

func (p *pageLog) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	p.reqs = append(p.reqs, req)
	return p.Bank.Statement(ctx, req)
}

// One statement call reads one page; the next call for the same account
// follows the token, and after the last page the account starts over.
func TestStatementCallsPageThrough(t *testing.T) {
	svc := bank.NewService(ledger.NewMemory(1))
	ctx := context.Background()
	acc := ledger.SeedAccount(1)
	const n = 2*bank.DefaultPageSize + 50
	for k := range n {
		if _, err := svc.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: 1, IdempotencyKey: fmt.Sprint("p", k)}); err != nil {
			t.Fatal(err)
		}
	}
	log := &pageLog{Bank: svc}
	w := defaultWorkload()
	w.Mix, w.Accounts = Mix{0, 1, 0}, 1
	l := &load{Workload: w}
	g := newGenerator(&l.Workload, accountTable(1), 0, 1)
	var wk worker
	for range 4 {
		if op, err := wk.call(ctx, log, g, l); op != bank.OpStatement || err != nil {
			t.Fatalf("call = %v, %v", op, err)
		}
	}
	if len(log.reqs) != 4 || log.reqs[0].PageToken != "" || log.reqs[1].PageToken == "" ||
		log.reqs[2].PageToken == "" || log.reqs[1].PageToken == log.reqs[2].PageToken || log.reqs[3].PageToken != "" {
		t.Fatalf("requests %+v; want the first page, two tokens, then the first page again", log.reqs)
	}
	for _, r := range log.reqs {
		if r.PageSize != 0 || r.Account != acc || r.Month != w.Month {
			t.Fatalf("request %+v; want the server's default page size", r)
		}
	}
}
