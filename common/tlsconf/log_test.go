package tlsconf_test

import (
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/tlsconf"
)

// A failed handshake (a plaintext client) is logged at level WARN with
// the peer and the error.
func TestHandshakeFailureLogged(t *testing.T) {
	dir := pki(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	srv, err := tlsconf.Server(p(devcerts.ServerCert), p(devcerts.ServerKey), "")
	if err != nil {
		t.Fatal(err)
	}
	var out banktest.LogBuffer
	logger := slog.New(slog.NewTextHandler(&out, nil))
	addr := echoServer(t, srv, tlsconf.Limits{}.Logged(logger))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "TLS handshake failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no handshake failure logged: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "peer="+c.LocalAddr().String()) || !strings.Contains(got, "err=") {
		t.Errorf("logged %q, want level=WARN, peer=%s and err", got, c.LocalAddr())
	}
}
