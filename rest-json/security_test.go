package restbank_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
	restbank "github.com/igbank/igbank/rest-json"
)

// TestSecurity runs, over every variant, the whole conformance suite over
// mutual TLS as the teller, and the security section (mutual TLS, bearer
// tokens, a plaintext client, keys scoped to their principal).
func TestSecurity(t *testing.T) {
	for _, v := range restbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) {
			t.Run("Conformance", func(t *testing.T) { banktest.Run(t, banktest.Secure(v)) })
			banktest.RunSecurity(t, v, restbank.Transport.Tokens)
		})
	}
}

// TestCurlTLS runs the README's curl commands over TLS: a bearer token of
// the account's owner reads it (200), another customer's does not (403),
// no token is 401; over mutual TLS the owner's certificate reads it. curl
// negotiates HTTP/2 by ALPN, the server's handshakes running in
// tlsconf.Listener.
func TestCurlTLS(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	f, p := startSecureServer(t, true)
	ca := filepath.Join(p.Dir, devcerts.CAFile)
	acc := string(ledger.SeedAccount(1))
	// get runs curl and returns the status, the HTTP version and the body.
	get := func(url string, args ...string) (status, version, body string) {
		t.Helper()
		bodyFile := filepath.Join(t.TempDir(), "body")
		args = append([]string{"-s", "--max-time", "10", "-o", bodyFile, "-w", "%{http_code} %{http_version}", "--cacert", ca}, args...)
		out, err := exec.Command("curl", append(args, url)...).Output()
		if err != nil {
			t.Fatalf("curl %q: %v", args, err)
		}
		b, _ := os.ReadFile(bodyFile)
		status, version, _ = strings.Cut(string(out), " ")
		return status, version, string(b)
	}
	balance := f.url + "/v1/accounts/" + acc + "/balance"
	for _, c := range []struct {
		what, token, status, body string
	}{
		{"the owner's token", token(t, p, 1), "200", `"balance":`},
		{"another customer's token", token(t, p, 2), "403", `"code":"permission_denied"`},
		{"no token", "", "401", `"code":"unauthenticated"`},
	} {
		var args []string
		if c.token != "" {
			args = []string{"-H", "Authorization: Bearer " + c.token}
		}
		status, version, body := get(balance, args...)
		if status != c.status || version != "2" || !strings.Contains(body, c.body) {
			t.Errorf("curl with %s: %s over HTTP/%s %s; want %s over HTTP/2 with %s", c.what, status, version, body, c.status, c.body)
		}
	}
	if status, version, _ := get(balance, "--http1.1", "-H", "Authorization: Bearer "+token(t, p, 1)); status != "200" || version != "1.1" {
		t.Errorf("curl --http1.1: %s over HTTP/%s, want 200 over HTTP/1.1", status, version)
	}

	// Mutual TLS: the client certificate names the caller.
	addr := banktest.Serve(t, restbank.NewServer(auth.Authorize(bank.NewService(ledger.NewMemory(10))), restbank.WithTLS(p.ServerTLS(t, true), tlsconf.Limits{})))
	cert := func(principal string) []string {
		return []string{"--cert", filepath.Join(p.Dir, devcerts.CertFile(principal)), "--key", filepath.Join(p.Dir, devcerts.KeyFile(principal))}
	}
	url := "https://" + addr + "/v1/accounts/" + acc + "/balance"
	if status, _, body := get(url, cert("customer-000000001")...); status != "200" {
		t.Errorf("curl with the owner's certificate: %s %s, want 200", status, body)
	}
	if status, _, body := get(url, cert("customer-000000002")...); status != "403" {
		t.Errorf("curl with another customer's certificate: %s %s, want 403", status, body)
	}
	bodyFile := filepath.Join(t.TempDir(), "body")
	if out, err := exec.Command("curl", "-s", "--max-time", "10", "-o", bodyFile, "--cacert", ca, url).CombinedOutput(); err == nil {
		t.Errorf("curl without a client certificate was answered: %s", out)
	}
}

// The Go client speaks HTTP/1.1 over TLS (one call per connection, as in
// plaintext), negotiated by ALPN.
func TestClientHTTP1OverTLS(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := banktest.Serve(t, restbank.NewServer(auth.Authorize(bank.NewService(ledger.NewMemory(10))), restbank.WithTLS(p.ServerTLS(t, true), tlsconf.Limits{})))
	c, err := restbank.Dial(context.Background(), addr, restbank.WithClientTLS(p.ClientTLS(t, "customer-000000001")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var negotiated []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) { negotiated = append(negotiated, cs.NegotiatedProtocol) },
	})
	if _, err := c.Balance(ctx, ledger.SeedAccount(1)); err != nil {
		t.Fatal(err)
	}
	if len(negotiated) != 1 || negotiated[0] != "http/1.1" {
		t.Fatalf("the client negotiated %q, want one handshake choosing http/1.1", negotiated)
	}
}

// A client trusting another CA, or expecting another server name, fails
// as unavailable.
func TestServerCertificateChecked(t *testing.T) {
	p := banktest.NewPKI(t)
	addr := banktest.Serve(t, restbank.NewServer(bank.NewService(ledger.NewMemory(10)), restbank.WithTLS(p.ServerTLS(t, false), tlsconf.Limits{})))
	named := p.ClientTLS(t, "")
	named.ServerName = "igbank.example" // not a name of the certificate
	for name, tc := range map[string]*tls.Config{"another CA": banktest.NewPKI(t).ClientTLS(t, ""), "another name": named} {
		c, err := restbank.Dial(context.Background(), addr, restbank.WithClientTLS(tc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Balance(context.Background(), ledger.SeedAccount(1)); !errors.Is(err, bank.ErrUnavailable) {
			t.Errorf("a client trusting %s: %v, want unavailable", name, err)
		}
		c.Close()
	}
}
