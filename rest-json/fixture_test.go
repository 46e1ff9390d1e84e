package restbank_test

import (
	"context"
	"testing"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
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

type fixture struct {
	url  string            // http://127.0.0.1:port
	addr string            // 127.0.0.1:port
	fail *banktest.Failing // Set(err) makes every call fail with err
}

// startServer serves a fresh 100-account bank on loopback until the test
// ends.
func startServer(t testing.TB, opts ...restbank.ServerOption) fixture {
	t.Helper()
	f := &banktest.Failing{Bank: slowOne{bank.NewService(ledger.NewMemory(100))}}
	addr := banktest.Serve(t, restbank.NewServer(f, opts...))
	return fixture{url: "http://" + addr, addr: addr, fail: f}
}

// startSecureServer serves, like startServer, a fresh bank behind
// auth.Authorize that takes the bearer tokens of the PKI it returns, over
// TLS (the PKI's server certificate, no client certificates) if useTLS,
// else in plaintext.
func startSecureServer(t testing.TB, useTLS bool) (fixture, *banktest.PKI) {
	t.Helper()
	p := banktest.NewPKI(t)
	opts := []restbank.ServerOption{restbank.WithTokens(p.Verifier(t))}
	scheme := "http://"
	if useTLS {
		opts = append(opts, restbank.WithTLS(p.ServerTLS(t, false), tlsconf.Limits{}))
		scheme = "https://"
	}
	f := &banktest.Failing{Bank: slowOne{bank.NewService(ledger.NewMemory(100))}}
	addr := banktest.Serve(t, restbank.NewServer(auth.Authorize(f), opts...))
	return fixture{url: scheme + addr, addr: addr, fail: f}, p
}

// token is a token of p for the customer of account n, valid for an hour.
func token(t testing.TB, p *banktest.PKI, n int) string {
	return p.Token(t, auth.Customer(ledger.SeedAccount(n)), time.Hour)
}

func timeNow() time.Time { return time.Now() }
