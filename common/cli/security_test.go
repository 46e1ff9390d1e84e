package cli

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/devcerts"
)

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7001": true, "[::1]:7001": true, "localhost:7001": true, "127.8.9.10:1": true,
		":7001": false, "0.0.0.0:7001": false, "[::]:7001": false, "192.168.1.5:7001": false, "example.com:7001": false, "nonsense": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestServerSecurity: plaintext only on loopback unless -insecure; a
// client CA needs TLS; the flags build a TLS config that requires client
// certificates, and a token verifier.
func TestServerSecurity(t *testing.T) {
	dir := t.TempDir()
	if err := devcerts.Write(dir, []string{"teller"}); err != nil {
		t.Fatal(err)
	}
	p := func(f string) string { return filepath.Join(dir, f) }
	for _, tc := range []struct {
		name    string
		s       ServerSecurity
		addr    string
		wantErr string
	}{
		{"plaintext on loopback", ServerSecurity{}, "127.0.0.1:0", ""},
		{"plaintext on every interface", ServerSecurity{}, ":7001", "refusing to serve plaintext"},
		{"plaintext, told -insecure", ServerSecurity{Insecure: true}, "0.0.0.0:7001", ""},
		{"half a certificate", ServerSecurity{TLSCert: p(devcerts.ServerCert)}, "127.0.0.1:0", "go together"},
		{"client CA without TLS", ServerSecurity{ClientCA: p(devcerts.CAFile)}, "127.0.0.1:0", "needs TLS"},
		{"TLS on every interface", ServerSecurity{TLSCert: p(devcerts.ServerCert), TLSKey: p(devcerts.ServerKey)}, ":7001", ""},
		{"missing token key", ServerSecurity{TokenKey: p("nope.pub")}, "127.0.0.1:0", "no such file"},
	} {
		_, err := tc.s.Config(tc.addr)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: %v, want error %q", tc.name, err, tc.wantErr)
		}
	}
	s := ServerSecurity{TLSCert: p(devcerts.ServerCert), TLSKey: p(devcerts.ServerKey), ClientCA: p(devcerts.CAFile), TokenKey: p(devcerts.TokenPubFile)}
	cfg, err := s.Config("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS == nil || cfg.TLS.ClientAuth != tls.RequireAndVerifyClientCert || cfg.Tokens == nil || !s.Authenticates() {
		t.Fatalf("config %+v: want TLS requiring client certificates and a token verifier", cfg)
	}
	if d := s.Describe(); d != "TLS, client certificates, bearer tokens" {
		t.Errorf("describe = %q", d)
	}
	c := ClientSecurity{TLSCA: p(devcerts.CAFile), TLSCert: p(devcerts.CertFile("teller")), TLSKey: p(devcerts.KeyFile("teller")), Token: "t"}
	cc, err := c.Config()
	if err != nil || cc.TLS == nil || len(cc.TLS.Certificates) != 1 || cc.Token != "t" {
		t.Fatalf("client config %+v, %v", cc, err)
	}
}
