package restbank_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	restbank "github.com/igbank/igbank/rest-json"
)

// slowAccount is the account whose balance never comes in time: calls on
// it wait for their deadline (up to 5 s).
var slowAccount = ledger.SeedAccount(50)

type slowOne struct{ bank.Bank }

func (s slowOne) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if acc == slowAccount {
		t := time.NewTimer(5 * time.Second)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return 0, bank.FromContext(ctx, ctx.Err())
		case <-t.C:
		}
	}
	return s.Bank.Balance(ctx, acc)
}

// Tokens of the test authorizer: "writer" may do anything, "reader" only
// GET.
func authorize(r *http.Request) error {
	switch r.Header.Get("Authorization") {
	case "Bearer writer":
		return nil
	case "Bearer reader":
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return nil
		}
		return bank.Errorf(bank.PermissionDenied, "token may only read")
	}
	return bank.Errorf(bank.Unauthenticated, "a bearer token is required")
}

type fixture struct {
	url  string            // http://127.0.0.1:port
	fail *banktest.Failing // Set(err) makes every call fail with err
}

// startServer serves a fresh 100-account bank on loopback until the test
// ends.
func startServer(t testing.TB, opts ...restbank.ServerOption) fixture {
	t.Helper()
	f := &banktest.Failing{Bank: slowOne{bank.NewService(ledger.NewMemory(100))}}
	addr := banktest.Serve(t, restbank.NewServer(f, opts...))
	return fixture{url: "http://" + addr, fail: f}
}

func timeNow() time.Time { return time.Now() }
