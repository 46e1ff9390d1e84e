package thriftbank_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
	thriftbank "github.com/igbank/igbank/thrift"
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
// (mutual when mutual), and returns l's address.
func secureServer(t *testing.T, p *banktest.PKI, l net.Listener, mutual bool, opts ...thriftbank.ServerOption) string {
	t.Helper()
	opts = append([]thriftbank.ServerOption{thriftbank.WithTLS(p.ServerTLS(t, mutual), tlsconf.Limits{Timeout: time.Second}),
		thriftbank.WithLogger(quiet)}, opts...)
	banktest.ServeListener(t, thriftbank.NewServer(auth.Authorize(newBank()), opts...), l)
	return l.Addr().String()
}

// balanceErr dials addr and asks for a balance, and returns the error and
// how long it took.
func balanceErr(t *testing.T, addr string, opts ...thriftbank.ClientOption) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	start := time.Now()
	c, err := thriftbank.Dial(ctx, addr, opts...)
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
	compactAddr := secureServer(t, p, listen(t), true, thriftbank.WithProtocol(thriftbank.Compact))
	plainAddr := banktest.Serve(t, thriftbank.NewServer(newBank(), thriftbank.WithLogger(quiet)))
	otherCA := banktest.NewPKI(t).ClientTLS(t, "teller")
	otherCA.RootCAs = p.ClientTLS(t, "").RootCAs
	teller := thriftbank.WithClientTLS(p.ClientTLS(t, "teller"))

	for _, tc := range []struct {
		name string
		addr string
		opts []thriftbank.ClientOption
		want *bank.Error
		says string
	}{
		{"no client certificate", tlsAddr, []thriftbank.ClientOption{thriftbank.WithClientTLS(p.ClientTLS(t, ""))}, bank.ErrUnauthenticated, "refused the client's certificate"},
		{"a certificate of another CA", tlsAddr, []thriftbank.ClientOption{thriftbank.WithClientTLS(otherCA)}, bank.ErrUnauthenticated, "refused the client's certificate"},
		{"a server certificate not trusted", tlsAddr, []thriftbank.ClientOption{thriftbank.WithClientTLS(banktest.NewPKI(t).ClientTLS(t, "teller"))}, bank.ErrUnauthenticated, "not trusted"},
		{"a plaintext client", tlsAddr, nil, bank.ErrUnavailable, ""},
		{"a TLS client of a plaintext server", plainAddr, []thriftbank.ClientOption{teller}, bank.ErrUnavailable, "TLS handshake failed"},
		{"a binary client of a compact server", compactAddr, []thriftbank.ClientOption{teller}, bank.ErrUnavailable, "does not speak igbank-thrift-binary/1"},
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
			// Dial's connection, and the call's (which may reuse it).
			if n := cl.accepted() - before; tc.addr == tlsAddr && n > 2 {
				t.Errorf("%d connections for one Dial and one call, want at most 2", n)
			}
		})
	}
	if err, _ := balanceErr(t, tlsAddr, teller); err != nil {
		t.Fatalf("a good client after all that: %v", err)
	}
	if err, _ := balanceErr(t, compactAddr, teller, thriftbank.WithClientProtocol(thriftbank.Compact)); err != nil {
		t.Fatalf("a good compact client: %v", err)
	}
}

// Handshakes that stall or send garbage do not hold up the others.
func TestStalledHandshakes(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), true)
	for range 3 {
		stalled := rawConn(t, addr)
		stalled.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}) // half a ClientHello's header
		garbage := rawConn(t, addr)
		garbage.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	}
	if err, took := balanceErr(t, addr, thriftbank.WithClientTLS(p.ClientTLS(t, "teller"))); err != nil || took > 2*time.Second {
		t.Fatalf("a good client while others stall: %v after %v", err, took)
	}
}

// The caller is the client certificate's, for every call on the
// connection; a client that offers no ALPN (a foreign Thrift client, say)
// is served.
func TestClientCertificateIsTheCaller(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), true)
	owner := dial(t, addr, thriftbank.WithClientTLS(p.ClientTLS(t, "customer-000000001")))
	for range 3 {
		if _, err := owner.Balance(ctx(t), ledger.SeedAccount(1)); err != nil {
			t.Fatalf("the owner: %v", err)
		}
		if _, err := owner.Balance(ctx(t), ledger.SeedAccount(2)); !errors.Is(err, bank.ErrPermissionDenied) {
			t.Fatalf("another's account: %v, want permission denied", err)
		}
	}
	cfg := p.ClientTLS(t, "teller")
	cfg.ServerName = "127.0.0.1"
	nc, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("a client without ALPN: %v", err)
	}
	if got := nc.ConnectionState().NegotiatedProtocol; got != "" {
		t.Errorf("negotiated %q with a client that offered nothing", got)
	}
	nc.Close()
}

// Framed Thrift carries no token: a client given one refuses to start
// rather than drop the credential.
func TestTokenIsRefused(t *testing.T) {
	_, err := thriftbank.Transport.Variants[0].Dial(context.Background(), "127.0.0.1:1", transport.ClientConfig{Token: "t"})
	if !errors.Is(err, bank.ErrInvalidArgument) || !strings.Contains(err.Error(), "client certificate") {
		t.Fatalf("Dial with a token: %v, want invalid_argument", err)
	}
}

// With TLS, the connection limit counts connections from their accept,
// the handshake included; past it an idle connection is reclaimed for a
// new one, as in plaintext. (Before the admission, the new connection was
// closed once its handshake was done.)
func TestConnectionLimitTLS(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), true, thriftbank.WithMaxConns(1))
	teller := thriftbank.WithClientTLS(p.ClientTLS(t, "teller"))
	first := dial(t, addr, teller)
	if _, err := first.Balance(ctx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatal(err)
	}
	second := dial(t, addr, teller)
	if _, err := second.Balance(ctx(t), ledger.SeedAccount(1)); err != nil {
		t.Fatalf("Balance past the connection limit, the other connection idle: %v", err)
	}
	servedAfterReclaim(t, first)
}
