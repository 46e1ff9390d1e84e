package tlsconf_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/tlsconf"
)

func pki(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := devcerts.Write(dir, []string{"teller"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// echoServer serves one-line echoes on a tlsconf.Listener.
func echoServer(t *testing.T, cfg *tls.Config, lim tlsconf.Limits) string {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := tlsconf.Listener(inner, cfg, lim)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return inner.Addr().String()
}

func roundTrip(t *testing.T, addr string, cfg *tls.Config) error {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	_, err = io.ReadFull(c, buf)
	return err
}

func TestMutualTLS(t *testing.T) {
	dir := pki(t)
	p := func(f string) string { return filepath.Join(dir, f) }
	srv, err := tlsconf.Server(p(devcerts.ServerCert), p(devcerts.ServerKey), p(devcerts.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	addr := echoServer(t, srv, tlsconf.Limits{})
	good, err := tlsconf.Client(p(devcerts.CAFile), p(devcerts.CertFile("teller")), p(devcerts.KeyFile("teller")))
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(t, addr, good); err != nil {
		t.Fatalf("a client with a certificate of the CA: %v", err)
	}
	noCert, _ := tlsconf.Client(p(devcerts.CAFile), "", "")
	if err := roundTrip(t, addr, noCert); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	other := pki(t) // a certificate from another CA
	foreign, _ := tlsconf.Client(p(devcerts.CAFile), filepath.Join(other, devcerts.CertFile("teller")), filepath.Join(other, devcerts.KeyFile("teller")))
	if err := roundTrip(t, addr, foreign); err == nil {
		t.Fatal("a client certificate from another CA was accepted")
	}
	tls12, _ := tlsconf.Client(p(devcerts.CAFile), p(devcerts.CertFile("teller")), p(devcerts.KeyFile("teller")))
	tls12.MaxVersion = tls.VersionTLS12
	if err := roundTrip(t, addr, tls12); err == nil {
		t.Fatal("TLS 1.2 was accepted without WithTLS12")
	}
}

// TestHandshakeTimeoutAndGarbage: a peer that sends garbage, or half a
// handshake and then nothing, is cut off, and a good client is served
// meanwhile.
func TestHandshakeTimeoutAndGarbage(t *testing.T) {
	dir := pki(t)
	p := func(f string) string { return filepath.Join(dir, f) }
	srv, _ := tlsconf.Server(p(devcerts.ServerCert), p(devcerts.ServerKey), "")
	addr := echoServer(t, srv, tlsconf.Limits{Timeout: 300 * time.Millisecond})
	client, _ := tlsconf.Client(p(devcerts.CAFile), "", "")

	garbage, _ := net.Dial("tcp", addr)
	defer garbage.Close()
	garbage.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	stalled, _ := net.Dial("tcp", addr)
	defer stalled.Close()
	stalled.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}) // a ClientHello's record header, and no more

	if err := roundTrip(t, addr, client); err != nil {
		t.Fatalf("a good client while others stall: %v", err)
	}
	for name, c := range map[string]net.Conn{"garbage": garbage, "stalled": stalled} {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("%s: the server did not close the connection: %v", name, err)
		}
	}
}

// TestHandshakeFlood: past the limit of handshakes in progress, new
// connections are closed at once; once the stalled ones time out a good
// client is served.
func TestHandshakeFlood(t *testing.T) {
	dir := pki(t)
	p := func(f string) string { return filepath.Join(dir, f) }
	srv, _ := tlsconf.Server(p(devcerts.ServerCert), p(devcerts.ServerKey), "")
	addr := echoServer(t, srv, tlsconf.Limits{Handshakes: 4, Timeout: 500 * time.Millisecond})
	var flood []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		flood = append(flood, c)
	}
	time.Sleep(100 * time.Millisecond) // let them take the handshake slots
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := extra.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("a connection past the handshake limit: read %v, want it closed at once (EOF)", err)
	}
	client, _ := tlsconf.Client(p(devcerts.CAFile), "", "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := roundTrip(t, addr, client); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("a good client after the flood timed out: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReload: a renewed certificate is served without a restart.
func TestReload(t *testing.T) {
	dir := pki(t)
	p := func(f string) string { return filepath.Join(dir, f) }
	srv, err := tlsconf.Server(p(devcerts.ServerCert), p(devcerts.ServerKey), "")
	if err != nil {
		t.Fatal(err)
	}
	serial := func() string {
		c, err := srv.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := x509.ParseCertificate(c.Certificate[0])
		return x.SerialNumber.String()
	}
	before := serial()
	renewed := pki(t)
	for _, f := range []string{devcerts.ServerCert, devcerts.ServerKey} {
		data, _ := os.ReadFile(filepath.Join(renewed, f))
		if err := os.WriteFile(p(f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for serial() == before {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate is not served")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
