package connectbank_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/url"
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
	connectbank "github.com/igbank/igbank/connect"
)

// securityVariants are the descriptor's variants (Connect, gRPC and
// gRPC-Web over HTTP/2) and the clients' HTTP/1.1 mode (Connect and
// gRPC-Web).
func securityVariants() []transport.Variant {
	vs := append([]transport.Variant(nil), connectbank.Transport.Variants...)
	for _, p := range []connectbank.Protocol{connectbank.Connect, connectbank.GRPCWeb} {
		v, _ := connectbank.Transport.Variant(p.String())
		vs = append(vs, transport.Variant{Name: v.Name + "-http1",
			NewServer: transport.ServerFor(connectbank.NewServer),
			Dial:      transport.DialerFor(connectbank.Dial, connectbank.WithProtocol(p), connectbank.WithHTTP1(8))})
	}
	return vs
}

// TestSecurity runs, over every variant and the HTTP/1.1 clients, the
// whole conformance suite over mutual TLS as the teller, and the security
// section (mutual TLS, bearer tokens, a plaintext client, keys scoped to
// their principal).
func TestSecurity(t *testing.T) {
	for _, v := range securityVariants() {
		t.Run(v.Name, func(t *testing.T) {
			t.Run("Conformance", func(t *testing.T) { banktest.Run(t, banktest.Secure(v)) })
			banktest.RunSecurity(t, v, connectbank.Transport.Tokens)
		})
	}
}

// Over TLS the protocol is negotiated by ALPN: HTTP/2 ("h2") for the
// client's default, HTTP/1.1 with WithHTTP1, and the handler sees the
// client's verified certificate in both.
func TestALPN(t *testing.T) {
	p := banktest.NewPKI(t)
	type seen struct {
		proto, alpn string
		certs       int
	}
	var mu sync.Mutex
	var last seen
	record := connectbank.WithHTTPServer(func(hs *http.Server) {
		next := hs.Handler
		hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			last = seen{r.Proto, r.TLS.NegotiatedProtocol, len(r.TLS.PeerCertificates)}
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	addr := banktest.Serve(t, connectbank.NewServer(auth.Authorize(bank.NewService(ledger.NewMemory(10))),
		connectbank.WithTLS(p.ServerTLS(t, true), tlsconf.Limits{}), record))
	for _, c := range []struct {
		name string
		opts []connectbank.ClientOption
		want seen
	}{
		{"connect", nil, seen{"HTTP/2.0", "h2", 1}},
		{"grpc", []connectbank.ClientOption{connectbank.WithProtocol(connectbank.GRPC)}, seen{"HTTP/2.0", "h2", 1}},
		{"grpcweb", []connectbank.ClientOption{connectbank.WithProtocol(connectbank.GRPCWeb)}, seen{"HTTP/2.0", "h2", 1}},
		{"connect-http1", []connectbank.ClientOption{connectbank.WithHTTP1(2)}, seen{"HTTP/1.1", "http/1.1", 1}},
	} {
		cl, err := connectbank.Dial(context.Background(), addr, append(c.opts, connectbank.WithClientTLS(p.ClientTLS(t, "teller")))...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Balance(testCtx(t), ledger.SeedAccount(1)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cl.Close()
		mu.Lock()
		if last != c.want {
			t.Errorf("%s: the server saw %+v, want %+v", c.name, last, c.want)
		}
		mu.Unlock()
	}
}

// The README's curl commands over TLS, made with net/http: a GET with a
// bearer token (the owner 200, another customer 403, none 401), and the
// plain HTTP client negotiates HTTP/2 as curl does.
func TestPlainHTTPS(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := banktest.Serve(t, connectbank.NewServer(auth.Authorize(bank.NewService(ledger.NewMemory(10))),
		connectbank.WithTLS(p.ServerTLS(t, false), tlsconf.Limits{}), connectbank.WithTokens(p.Verifier(t))))
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: p.ClientTLS(t, ""), ForceAttemptHTTP2: true}}
	defer hc.CloseIdleConnections()
	url := "https://" + addr + "/igbank.v1.BankService/Balance?encoding=json&message=" + url.QueryEscape(`{"account":"000000001"}`)
	for _, c := range []struct {
		token string
		want  int
		body  string
	}{
		{p.Token(t, auth.Customer(ledger.SeedAccount(1)), time.Hour), http.StatusOK, `"balanceCents"`},
		{p.Token(t, auth.Customer(ledger.SeedAccount(2)), time.Hour), http.StatusForbidden, `"code":"permission_denied"`},
		{"", http.StatusUnauthorized, `"code":"unauthenticated"`},
	} {
		req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, url, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || !strings.Contains(string(body), c.body) || resp.ProtoMajor != 2 {
			t.Errorf("GET Balance: %s %d %s, want HTTP/2 %d with %s", resp.Proto, resp.StatusCode, body, c.want, c.body)
		}
	}
}

// A bearer token is never sent in the clear: Dial refuses it without TLS.
func TestTokenNeedsTLS(t *testing.T) {
	if _, err := connectbank.Dial(context.Background(), "127.0.0.1:1", connectbank.WithToken("x")); !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("Dial with a token and no TLS: %v, want invalid argument", err)
	}
}

// The client checks the server's certificate: a client trusting another
// CA, or expecting another name, fails as unavailable.
func TestServerCertificateChecked(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10)), connectbank.WithTLS(p.ServerTLS(t, false), tlsconf.Limits{})))
	named := p.ClientTLS(t, "")
	named.ServerName = "igbank.example" // not a name of the certificate
	for name, tc := range map[string]*tls.Config{"another CA": banktest.NewPKI(t).ClientTLS(t, ""), "another name": named} {
		c, err := connectbank.Dial(context.Background(), addr, connectbank.WithClientTLS(tc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Balance(testCtx(t), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrUnavailable) {
			t.Errorf("a client trusting %s: %v, want unavailable", name, err)
		}
		c.Close()
	}
}
