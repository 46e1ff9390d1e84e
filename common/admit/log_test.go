package admit_test

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/admit"
	"github.com/igbank/igbank/common/banktest"
)

// A connection refused at a full server is logged at level DEBUG with
// its peer.
func TestRefusedIsLogged(t *testing.T) {
	var out banktest.LogBuffer
	a := admit.New(admit.Config{MaxConns: 1, Logger: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := a.Listener(inner)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.(*admit.Conn).Begin() // busy: cannot be reclaimed
		}
	}()
	first, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "connection refused") {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.String(); !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, "peer="+second.LocalAddr().String()) {
		t.Errorf("refusal logged as %q, want level=DEBUG and peer=%s", got, second.LocalAddr())
	}
}
