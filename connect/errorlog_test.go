package connectbank

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/logs"
)

// What net/http says of a misbehaving client reaches the server's logger,
// at DEBUG and with the server's keys, instead of being dropped.
func TestHTTPErrorLog(t *testing.T) {
	var out banktest.LogBuffer
	logger, err := logs.New(&out, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	addr := banktest.Serve(t, NewServer(bank.NewService(ledger.NewMemory(1)), WithLogger(logger)))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The HTTP/2 preface, then a PING where SETTINGS must come first: a
	// connection error.
	io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x08\x06\x00\x00\x00\x00\x00"+strings.Repeat("\x00", 8))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, c)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s := out.String(); strings.Contains(s, `"level":"DEBUG"`) && strings.Contains(s, `"transport":"connect"`) && strings.Contains(s, "PROTOCOL_ERROR") {
			return
		}
	}
	t.Fatalf("no DEBUG record of the connection error:\n%s", out.String())
}
