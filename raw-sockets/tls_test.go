package rawbank

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
)

// secureServer serves the bank behind auth.Authorize with mutual TLS (when
// mutual) and the PKI's tokens on l, and returns l's address.
func secureServer(t *testing.T, p *banktest.PKI, l net.Listener, mutual bool) string {
	t.Helper()
	svc := auth.Authorize(bank.NewService(ledger.NewMemory(100)))
	serveOn(t, l, svc, WithTLS(p.ServerTLS(t, mutual), tlsconf.Limits{Timeout: time.Second}), WithTokens(p.Verifier(t)))
	return l.Addr().String()
}

// balanceErr dials addr and asks for a balance, and returns the error and
// how long it took.
func balanceErr(t *testing.T, addr string, opts ...ClientOption) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	start := time.Now()
	c, err := Dial(ctx, addr, opts...)
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
	tl := &trackingListener{Listener: listen(t)}
	tlsAddr := secureServer(t, p, tl, true)
	plainAddr := startServer(t, nil)
	otherCA := banktest.NewPKI(t).ClientTLS(t, "teller")
	otherCA.RootCAs = p.ClientTLS(t, "").RootCAs

	// A TLS server of another transport (its own ALPN protocol).
	other := listen(t)
	otherTLS := p.ServerTLS(t, false)
	otherTLS.NextProtos = []string{"igbank-netrpc/1"}
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
		opts []ClientOption
		want *bank.Error
		says string
	}{
		{"no client certificate", tlsAddr, []ClientOption{WithClientTLS(p.ClientTLS(t, ""))}, bank.ErrUnauthenticated, "refused the client's certificate"},
		{"a certificate of another CA", tlsAddr, []ClientOption{WithClientTLS(otherCA)}, bank.ErrUnauthenticated, "refused the client's certificate"},
		{"a server certificate not trusted", tlsAddr, []ClientOption{WithClientTLS(banktest.NewPKI(t).ClientTLS(t, "teller"))}, bank.ErrUnauthenticated, "not trusted"},
		{"a plaintext client", tlsAddr, nil, bank.ErrUnavailable, ""},
		{"a TLS client of a plaintext server", plainAddr, []ClientOption{WithClientTLS(p.ClientTLS(t, "teller"))}, bank.ErrUnavailable, "does not speak TLS"},
		{"another transport's TLS port", other.Addr().String(), []ClientOption{WithClientTLS(p.ClientTLS(t, "teller"))}, bank.ErrUnavailable, "does not speak " + ALPN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tl.accepted()
			err, took := balanceErr(t, tc.addr, append(tc.opts, WithConns(1))...)
			t.Logf("%v (after %v)", err, took)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want.Code, tc.says)
			}
			if took > 2*time.Second {
				t.Errorf("the error took %v: it must come at once, not at a deadline", took)
			}
			// Dial's connection, and the call's: one, and one more if the
			// first broke before the request was written.
			if n := tl.accepted() - before; tc.addr == tlsAddr && n > 3 {
				t.Errorf("%d connections for one Dial and one call, want at most 3", n)
			}
		})
	}
	// The server still serves a good client after all that.
	if err, _ := balanceErr(t, tlsAddr, WithClientTLS(p.ClientTLS(t, "teller"))); err != nil {
		t.Fatalf("a good client: %v", err)
	}
}

// Handshakes that stall or send garbage do not hold up the others.
func TestStalledHandshakes(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), true)
	for range 3 {
		stalled := rawDial(t, addr)
		stalled.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}) // half a ClientHello's header
		garbage := rawDial(t, addr)
		garbage.Write(frame(Version, OpBalance, 1, balancePayload(1)))
	}
	if err, took := balanceErr(t, addr, WithClientTLS(p.ClientTLS(t, "teller"))); err != nil || took > 2*time.Second {
		t.Fatalf("a good client while others stall: %v after %v", err, took)
	}
}

func TestTokens(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), false)
	ca := p.ClientTLS(t, "")
	teller := p.Token(t, auth.Teller, time.Hour)

	c := dialClient(t, addr, WithClientTLS(ca), WithToken(teller), WithConns(3))
	for i := 1; i <= 6; i++ { // every connection of the pool authenticates
		if m, err := c.Balance(context.Background(), ledger.SeedAccount(i)); err != nil || m != ledger.SeedBalance(i) {
			t.Fatalf("the teller's Balance: %d, %v", m, err)
		}
	}
	// A token refused fails Dial as unauthenticated, saying why.
	if err, _ := balanceErr(t, addr, WithClientTLS(ca), WithToken(p.Token(t, auth.Teller, -time.Hour))); !errors.Is(err, bank.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired token: %v", err)
	}
	// A server without a verifier refuses every token.
	plain := startServer(t, nil)
	if err, _ := balanceErr(t, plain, WithToken(teller)); !errors.Is(err, bank.ErrUnauthenticated) || !strings.Contains(err.Error(), "does not take bearer tokens") {
		t.Fatalf("a token to a server without a verifier: %v", err)
	}
	// A server of revision 1.0 answers the unknown op with invalid_argument.
	old := fakeServer(t, func(h Header) []byte {
		return finishFrame(appendErrorMessage(beginFrame(nil, h.Op|ReplyBit, bank.InvalidArgument), "unknown op 4"), h.ID, 0)
	})
	if err, _ := balanceErr(t, old, WithToken(teller)); !errors.Is(err, bank.ErrUnauthenticated) || !strings.Contains(err.Error(), "unknown op 4") {
		t.Fatalf("a token to a 1.0 server: %v", err)
	}
	// A token longer than a str can hold fails locally.
	if _, err := Dial(context.Background(), addr, WithToken(strings.Repeat("x", 70_000))); !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("a 70,000-byte token: %v", err)
	}
}

// The Auth op on the wire: only as a connection's first request; what it
// binds holds for every later call, and a refused token makes every call
// unauthenticated, whatever the client certificate says.
func TestAuthOp(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := secureServer(t, p, listen(t), true)
	cfg := p.ClientTLS(t, "customer-000000001")
	cfg.NextProtos = []string{ALPN}
	cfg.ServerName = "127.0.0.1"
	conn := func(t *testing.T) (*tls.Conn, *frameReader) {
		nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		return nc, newFrameReader(nc, 4096, MaxReplyFrame)
	}
	call := func(t *testing.T, nc net.Conn, fr *frameReader, op byte, id uint64, payload []byte) reply {
		t.Helper()
		if _, err := nc.Write(frame(Version, op, id, payload)); err != nil {
			t.Fatal(err)
		}
		r := readOne(t, fr)
		if r.h.ID != id || r.h.Op != op|ReplyBit {
			t.Fatalf("got %+v, want the reply to id %d", r.h, id)
		}
		return r
	}
	teller := appendAuthRequest(nil, p.Token(t, auth.Teller, time.Hour))

	t.Run("token over certificate", func(t *testing.T) {
		nc, fr := conn(t)
		if r := call(t, nc, fr, OpAuth, 1, teller); r.h.Status != bank.OK || len(r.payload) != 0 {
			t.Fatalf("Auth: %+v %q", r.h, r.payload)
		}
		// The teller may read account 2; the certificate's customer may not.
		if r := call(t, nc, fr, OpBalance, 2, balancePayload(2)); r.h.Status != bank.OK {
			t.Fatalf("Balance as the teller: %+v %q", r.h, r.payload)
		}
		if r := call(t, nc, fr, OpAuth, 3, teller); r.h.Status != bank.InvalidArgument {
			t.Fatalf("a second Auth: %+v %q, want invalid_argument", r.h, r.payload)
		}
	})
	t.Run("certificate alone", func(t *testing.T) {
		nc, fr := conn(t)
		if r := call(t, nc, fr, OpBalance, 1, balancePayload(2)); r.h.Status != bank.PermissionDenied {
			t.Fatalf("the customer's Balance of account 2: %+v %q", r.h, r.payload)
		}
		if r := call(t, nc, fr, OpAuth, 2, teller); r.h.Status != bank.InvalidArgument || !strings.Contains(string(r.payload), "first request") {
			t.Fatalf("Auth after a call: %+v %q, want invalid_argument", r.h, r.payload)
		}
		if r := call(t, nc, fr, OpBalance, 3, balancePayload(2)); r.h.Status != bank.PermissionDenied {
			t.Fatalf("a refused Auth changed the caller: %+v %q", r.h, r.payload)
		}
	})
	t.Run("refused token", func(t *testing.T) {
		nc, fr := conn(t)
		bad := appendAuthRequest(nil, banktest.NewPKI(t).Token(t, auth.Teller, time.Hour))
		if r := call(t, nc, fr, OpAuth, 1, bad); r.h.Status != bank.Unauthenticated || !strings.Contains(string(r.payload), "another key") {
			t.Fatalf("Auth with another key's token: %+v %q", r.h, r.payload)
		}
		if r := call(t, nc, fr, OpBalance, 2, balancePayload(1)); r.h.Status != bank.Unauthenticated {
			t.Fatalf("a call after a refused token: %+v %q, want unauthenticated", r.h, r.payload)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		nc, fr := conn(t)
		for i, payload := range [][]byte{nil, appendStr(nil, ""), append(slices.Clone(teller), 0), {0, 9, 'x'}} {
			if r := call(t, nc, fr, OpAuth, uint64(10+i), payload); r.h.Status != bank.InvalidArgument {
				t.Fatalf("Auth with payload %x: %+v %q, want invalid_argument", payload, r.h, r.payload)
			}
		}
		// The connection goes on, as its certificate's customer.
		if r := call(t, nc, fr, OpBalance, 20, balancePayload(1)); r.h.Status != bank.OK {
			t.Fatalf("Balance after malformed Auths: %+v %q", r.h, r.payload)
		}
	})
}

// With TLS, the connection limit counts connections from their accept,
// the handshake included; past it an idle connection is reclaimed for a
// new one, as in plaintext. (Before the admission, the new connection
// waited in the listen queue, its handshake too.)
func TestConnectionLimitTLS(t *testing.T) {
	p := banktest.NewPKI(t)
	l := listen(t)
	serveOn(t, l, bank.NewService(ledger.NewMemory(100)), WithTLS(p.ServerTLS(t, true), tlsconf.Limits{}), WithMaxConns(1))
	addr := l.Addr().String()
	teller := WithClientTLS(p.ClientTLS(t, "teller"))
	first, err := Dial(context.Background(), addr, teller, WithConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	stillServes(t, first)
	stillServes(t, dialClient(t, addr, teller, WithConns(1)))
	servedAfterReclaim(t, first) // dials anew
}
