package netrpcbank_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/rpc"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	mu sync.Mutex
	n  int
}

func (l *countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.n++
		l.mu.Unlock()
	}
	return nc, err
}

func (l *countingListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// secureServer serves the bank behind auth.Authorize on l with TLS
// (mutual when mutual) and the PKI's tokens, and returns l's address.
func secureServer(t *testing.T, p *banktest.PKI, l net.Listener, mutual bool, opts ...netrpcbank.ServerOption) string {
	t.Helper()
	svc := auth.Authorize(newBank())
	opts = append([]netrpcbank.ServerOption{netrpcbank.WithTLS(p.ServerTLS(t, mutual), tlsconf.Limits{Timeout: time.Second}),
		netrpcbank.WithTokens(p.Verifier(t)), netrpcbank.WithLogger(banktest.Logger(t))}, opts...)
	banktest.ServeListener(t, netrpcbank.NewServer(svc, opts...), l)
	return l.Addr().String()
}

// balanceErr dials addr and asks for a balance, and returns the error and
// how long it took.
func balanceErr(t *testing.T, addr string, opts ...netrpcbank.ClientOption) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	start := time.Now()
	c, err := netrpcbank.Dial(ctx, addr, opts...)
	if err == nil {
		_, err = c.Balance(ctx, ledger.SeedAccount(1))
		c.Close()
	}
	return err, time.Since(start)
}

// A handshake that fails surfaces at once as a typed error that says why,
// and the client's pool does not dial again and again for one call.
func TestHandshakeFailures(t *testing.T) {
	p := banktest.NewPKI(t)
	cl := &countingListener{Listener: listen(t)}
	tlsAddr := secureServer(t, p, cl, true)
	plainAddr := serve(t, newBank())
	otherCA := banktest.NewPKI(t).ClientTLS(t, "teller")
	otherCA.RootCAs = p.ClientTLS(t, "").RootCAs

	// A TLS server of another transport (its own ALPN protocol).
	other := listen(t)
	otherTLS := p.ServerTLS(t, false)
	otherTLS.NextProtos = []string{"igbank-raw/1"}
	go func() {
		for {
			nc, err := other.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				tls.Server(nc, otherTLS).Handshake()
			}()
		}
	}()
	t.Cleanup(func() { other.Close() })

	for _, tc := range []struct {
		name string
		addr string
		opts []netrpcbank.ClientOption
		want *bank.Error
		says string
	}{
		{"no client certificate", tlsAddr, []netrpcbank.ClientOption{netrpcbank.WithClientTLS(p.ClientTLS(t, ""))}, bank.ErrUnauthenticated, "refused the client's certificate"},
		{"a certificate of another CA", tlsAddr, []netrpcbank.ClientOption{netrpcbank.WithClientTLS(otherCA)}, bank.ErrUnauthenticated, "refused the client's certificate"},
		{"a server certificate not trusted", tlsAddr, []netrpcbank.ClientOption{netrpcbank.WithClientTLS(banktest.NewPKI(t).ClientTLS(t, "teller"))}, bank.ErrUnauthenticated, "not trusted"},
		{"a plaintext client", tlsAddr, nil, bank.ErrUnavailable, ""},
		{"a TLS client of a plaintext server", plainAddr, []netrpcbank.ClientOption{netrpcbank.WithClientTLS(p.ClientTLS(t, "teller"))}, bank.ErrUnavailable, ""},
		{"another transport's TLS port", other.Addr().String(), []netrpcbank.ClientOption{netrpcbank.WithClientTLS(p.ClientTLS(t, "teller"))}, bank.ErrUnavailable, "does not speak " + netrpcbank.ALPN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := cl.accepted()
			err, took := balanceErr(t, tc.addr, tc.opts...)
			t.Logf("%v (after %v)", err, took)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want.Code, tc.says)
			}
			if took > 2*time.Second {
				t.Errorf("the error took %v: it must come at once, not at a deadline", took)
			}
			// Dial's connection, and the call's: one, and one more if the
			// first was found shut down before the request was sent.
			if n := cl.accepted() - before; tc.addr == tlsAddr && n > 3 {
				t.Errorf("%d connections for one Dial and one call, want at most 3", n)
			}
		})
	}
	if err, _ := balanceErr(t, tlsAddr, netrpcbank.WithClientTLS(p.ClientTLS(t, "teller"))); err != nil {
		t.Fatalf("a good client after all that: %v", err)
	}
}

// Handshakes that stall or send garbage do not hold up the others.
func TestStalledHandshakes(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), true)
	for range 3 {
		stalled, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer stalled.Close()
		stalled.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}) // half a ClientHello's header
		garbage, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer garbage.Close()
		garbage.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	}
	if err, took := balanceErr(t, addr, netrpcbank.WithClientTLS(p.ClientTLS(t, "teller"))); err != nil || took > 2*time.Second {
		t.Fatalf("a good client while others stall: %v after %v", err, took)
	}
}

// With TLS, the connection limit counts connections from their accept,
// the handshake included; past it an idle connection is reclaimed for a
// new one, as in plaintext. (Before the admission, the new connection
// waited in the listen queue, its handshake too.)
func TestMaxConnsTLS(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), true, netrpcbank.WithMaxConns(1))
	teller := netrpcbank.WithClientTLS(p.ClientTLS(t, "teller"))
	first := dialT(t, addr, teller)
	wantBalance(t, first, 1)
	wantBalance(t, dialT(t, addr, teller), 1)
	wantBalanceReclaimed(t, first)
}

func TestTokens(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), false)
	ca := netrpcbank.WithClientTLS(p.ClientTLS(t, ""))
	teller := p.Token(t, auth.Teller, time.Hour)

	c := dialT(t, addr, ca, netrpcbank.WithToken(teller), netrpcbank.WithConns(3))
	for i := 1; i <= 6; i++ { // every connection of the pool authenticates
		wantBalance(t, c, i)
	}
	if err, _ := balanceErr(t, addr, ca, netrpcbank.WithToken(p.Token(t, auth.Teller, -time.Hour))); !errors.Is(err, bank.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired token: %v", err)
	}
	// A server without a verifier refuses every token.
	if err, _ := balanceErr(t, serve(t, newBank()), netrpcbank.WithToken(teller)); !errors.Is(err, bank.ErrUnauthenticated) || !strings.Contains(err.Error(), "does not take bearer tokens") {
		t.Fatalf("a token to a server without a verifier: %v", err)
	}
	// A server older than IGBank.Authenticate.
	l := listen(t)
	rs := rpc.NewServer()
	if err := rs.RegisterName(netrpcbank.ServiceName, new(other)); err != nil {
		t.Fatal(err)
	}
	go rs.Accept(l)
	t.Cleanup(func() { l.Close() })
	if err, _ := balanceErr(t, l.Addr().String(), netrpcbank.WithToken(teller)); !errors.Is(err, bank.ErrUnauthenticated) || !strings.Contains(err.Error(), "can't find method") {
		t.Fatalf("a token to an older server: %v", err)
	}
}

// IGBank.Authenticate on the wire, with a plain net/rpc client: what it
// binds holds for the later calls of the connection, a refused token makes
// them unauthenticated whatever the certificate says, and a connection
// authenticates once.
func TestAuthenticateMethod(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), true)
	cfg := p.ClientTLS(t, "customer-000000001")
	cfg.NextProtos = []string{netrpcbank.ALPN}
	cfg.ServerName = "127.0.0.1"
	conn := func(t *testing.T) *rpc.Client {
		nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rc := rpc.NewClient(nc)
		t.Cleanup(func() { rc.Close() })
		return rc
	}
	code := func(err error) bank.Code {
		var se rpc.ServerError
		if err == nil {
			return bank.OK
		}
		if !errors.As(err, &se) {
			t.Fatalf("not a server error: %v", err)
		}
		berr, _ := netrpcbank.DecodeError(string(se))
		return bank.CodeOf(berr)
	}
	balance := func(rc *rpc.Client, i int) bank.Code {
		var reply netrpcbank.BalanceReply
		return code(rc.Call(netrpcbank.MethodBalance, &netrpcbank.BalanceArgs{Account: ledger.SeedAccount(i)}, &reply))
	}
	authenticate := func(rc *rpc.Client, token string) (bank.Code, string) {
		var reply netrpcbank.AuthenticateReply
		err := rc.Call(netrpcbank.MethodAuthenticate, &netrpcbank.AuthenticateArgs{Token: token}, &reply)
		return code(err), reply.Principal
	}
	teller := p.Token(t, auth.Teller, time.Hour)

	t.Run("token over certificate", func(t *testing.T) {
		rc := conn(t)
		if got := balance(rc, 2); got != bank.PermissionDenied {
			t.Fatalf("the certificate's customer, account 2: %v", got)
		}
		if got, who := authenticate(rc, teller); got != bank.OK || who != "teller" {
			t.Fatalf("Authenticate: %v %q", got, who)
		}
		if got := balance(rc, 2); got != bank.OK {
			t.Fatalf("the teller, account 2: %v", got)
		}
		if got, _ := authenticate(rc, teller); got != bank.InvalidArgument {
			t.Fatalf("a second Authenticate: %v, want invalid_argument", got)
		}
	})
	t.Run("refused token", func(t *testing.T) {
		rc := conn(t)
		if got, _ := authenticate(rc, banktest.NewPKI(t).Token(t, auth.Teller, time.Hour)); got != bank.Unauthenticated {
			t.Fatalf("another key's token: %v", got)
		}
		if got := balance(rc, 1); got != bank.Unauthenticated {
			t.Fatalf("a call after a refused token: %v, want unauthenticated", got)
		}
	})
	t.Run("empty token", func(t *testing.T) {
		rc := conn(t)
		if got, _ := authenticate(rc, ""); got != bank.InvalidArgument {
			t.Fatalf("an empty token: %v, want invalid_argument", got)
		}
		if got := balance(rc, 1); got != bank.OK {
			t.Fatalf("the certificate's customer after an empty token: %v", got)
		}
	})
}
