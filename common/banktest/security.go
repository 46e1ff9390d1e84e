package banktest

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
)

// PKI is a development PKI in a test's temporary folder (devcerts.Write),
// with the configs and tokens the security section needs.
type PKI struct {
	Dir    string
	signer *auth.Signer
}

// NewPKI writes a PKI with client certificates for the teller and the
// customers of accounts 1 and 2.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	if err := devcerts.Write(dir, devcerts.DefaultPrincipals); err != nil {
		t.Fatal(err)
	}
	s, err := auth.LoadSigner(filepath.Join(dir, devcerts.TokenKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return &PKI{Dir: dir, signer: s}
}

func (p *PKI) file(name string) string { return filepath.Join(p.Dir, name) }

// ServerTLS is a server config for the PKI's server certificate, requiring
// client certificates of its CA when mutual.
func (p *PKI) ServerTLS(t testing.TB, mutual bool) *tls.Config {
	t.Helper()
	ca := ""
	if mutual {
		ca = p.file(devcerts.CAFile)
	}
	c, err := tlsconf.Server(p.file(devcerts.ServerCert), p.file(devcerts.ServerKey), ca)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ClientTLS is a client config that trusts the PKI's CA and, unless
// principal is "", presents that principal's certificate.
func (p *PKI) ClientTLS(t testing.TB, principal string) *tls.Config {
	t.Helper()
	cert, key := "", ""
	if principal != "" {
		cert, key = p.file(devcerts.CertFile(principal)), p.file(devcerts.KeyFile(principal))
	}
	c, err := tlsconf.Client(p.file(devcerts.CAFile), cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Verifier checks the PKI's tokens.
func (p *PKI) Verifier(t testing.TB) *auth.Verifier {
	t.Helper()
	v, err := auth.LoadVerifier(p.file(devcerts.TokenPubFile))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Token is a token for principal, valid for ttl (negative: expired).
func (p *PKI) Token(t testing.TB, principal auth.Principal, ttl time.Duration) string {
	t.Helper()
	tok, err := p.signer.Token(principal, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Secure returns the Factory of the conformance suite with security on:
// srv is served behind auth.Authorize by v's server over mutual TLS, and
// the client is the teller, by its client certificate.
func Secure(v transport.Variant) Factory {
	return func(t testing.TB, srv bank.Bank) bank.Bank {
		t.Helper()
		p := NewPKI(t)
		addr := Serve(t, v.NewServer(auth.Authorize(srv), transport.ServerConfig{TLS: p.ServerTLS(t, true)}))
		return dial(t, v, addr, transport.ClientConfig{TLS: p.ClientTLS(t, "teller")})
	}
}

func dial(t testing.TB, v transport.Variant, addr string, cfg transport.ClientConfig) transport.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := v.Dial(ctx, addr, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// RunSecurity runs the security section over transport variant v: mutual
// TLS (the owner, another account, the teller, no client certificate, a
// certificate of another CA), bearer tokens when tokens is set (the
// owner, another account, the teller, no credential, an expired token, a
// token signed by another key), a plaintext client against a TLS server,
// and idempotency keys scoped to their principal, each through a real
// server on loopback serving the reference bank behind auth.Authorize.
func RunSecurity(t *testing.T, v transport.Variant, tokens bool) {
	p := NewPKI(t)
	acc1, acc2 := ledger.SeedAccount(1), ledger.SeedAccount(2)
	serve := func(t *testing.T, mutual bool) string {
		svc := bank.NewService(ledger.NewMemory(Accounts))
		cfg := transport.ServerConfig{TLS: p.ServerTLS(t, mutual)}
		if tokens {
			cfg.Tokens = p.Verifier(t)
		}
		return Serve(t, v.NewServer(auth.Authorize(svc), cfg))
	}
	balance := func(t *testing.T, addr string, cfg transport.ClientConfig, acc bank.AccountNo) error {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := v.Dial(ctx, addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Balance(ctx, acc)
		return err
	}
	want := func(t *testing.T, what string, err, target error) {
		t.Helper()
		if target == nil && err != nil || target != nil && !errors.Is(err, target) {
			t.Errorf("%s: %v, want %v", what, err, target)
		}
	}
	// refused: a handshake the server refuses is unauthenticated or
	// unavailable (the transports differ in what the refusal looks like
	// on the wire), and never a success or a hang.
	refused := func(t *testing.T, what string, err error) {
		t.Helper()
		if c := bank.CodeOf(err); c != bank.Unauthenticated && c != bank.Unavailable {
			t.Errorf("%s: %v, want unauthenticated or unavailable", what, err)
		}
	}

	t.Run("MutualTLS", func(t *testing.T) {
		addr := serve(t, true)
		owner := transport.ClientConfig{TLS: p.ClientTLS(t, "customer-000000001")}
		want(t, "the owner", balance(t, addr, owner, acc1), nil)
		want(t, "another customer's account", balance(t, addr, owner, acc2), bank.ErrPermissionDenied)
		want(t, "another customer's unknown account", balance(t, addr, owner, "000000999"), bank.ErrPermissionDenied)
		teller := transport.ClientConfig{TLS: p.ClientTLS(t, "teller")}
		want(t, "the teller", balance(t, addr, teller, acc2), nil)
		refused(t, "no client certificate", balance(t, addr, transport.ClientConfig{TLS: p.ClientTLS(t, "")}, acc1))
		other := NewPKI(t)
		foreign := other.ClientTLS(t, "teller")
		foreign.RootCAs = p.ClientTLS(t, "").RootCAs // trusts the server, presents another CA's certificate
		refused(t, "a client certificate of another CA", balance(t, addr, transport.ClientConfig{TLS: foreign}, acc1))
	})
	t.Run("PlaintextClient", func(t *testing.T) {
		addr := serve(t, true)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		c, err := v.Dial(ctx, addr, transport.ClientConfig{})
		if err == nil {
			_, err = c.Balance(ctx, acc1)
			c.Close()
		}
		if err == nil || bank.CodeOf(err) == bank.OK {
			t.Fatal("a plaintext client was answered by a TLS server")
		}
		if time.Since(start) > 2500*time.Millisecond {
			t.Errorf("a plaintext client against a TLS server waited %v: the error must come at once, not at the deadline", time.Since(start))
		}
	})
	if tokens {
		t.Run("Tokens", func(t *testing.T) {
			addr := serve(t, false)
			tls := p.ClientTLS(t, "")
			with := func(tok string) transport.ClientConfig { return transport.ClientConfig{TLS: tls, Token: tok} }
			owner := with(p.Token(t, auth.Customer(acc1), time.Hour))
			want(t, "the owner", balance(t, addr, owner, acc1), nil)
			want(t, "another customer's account", balance(t, addr, owner, acc2), bank.ErrPermissionDenied)
			want(t, "the teller", balance(t, addr, with(p.Token(t, auth.Teller, time.Hour)), acc2), nil)
			want(t, "no credential", balance(t, addr, with(""), acc1), bank.ErrUnauthenticated)
			want(t, "an expired token", balance(t, addr, with(p.Token(t, auth.Teller, -time.Hour)), acc1), bank.ErrUnauthenticated)
			want(t, "a token of another key", balance(t, addr, with(NewPKI(t).Token(t, auth.Teller, time.Hour)), acc1), bank.ErrUnauthenticated)
		})
	}
	t.Run("KeysScopedToTheirPrincipal", func(t *testing.T) {
		addr := serve(t, true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		owner := dial(t, v, addr, transport.ClientConfig{TLS: p.ClientTLS(t, "customer-000000001")})
		teller := dial(t, v, addr, transport.ClientConfig{TLS: p.ClientTLS(t, "teller")})
		req := bank.DepositRequest{Account: acc1, Amount: 100, IdempotencyKey: "scoped-key"}
		r1, err := owner.Deposit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := teller.Deposit(ctx, req)
		if err != nil || r2.Replayed || r2.TransactionID == r1.TransactionID {
			t.Fatalf("the teller with the owner's key: %+v, %v; want a deposit of its own", r2, err)
		}
		st, err := owner.Statement(ctx, bank.StatementRequest{Account: acc1, Month: bank.MonthOf(time.Now())})
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range st.Transactions {
			if tx.ID == r2.TransactionID && tx.IdempotencyKey != "" {
				t.Errorf("the owner sees the teller's key %q", tx.IdempotencyKey)
			}
			if tx.ID == r1.TransactionID && tx.IdempotencyKey != "scoped-key" {
				t.Errorf("the owner sees its own key as %q", tx.IdempotencyKey)
			}
		}
	})
}
