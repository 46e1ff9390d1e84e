package grpcbank_test

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
	grpcbank "github.com/igbank/igbank/grpc"
	"github.com/igbank/igbank/proto/igbankv1"
)

// h2peer is a hand-driven HTTP/2 client of the gRPC server, free to break
// the protocol's manners.
type h2peer struct {
	conn net.Conn
	fr   *http2.Framer
	mu   sync.Mutex
	hbuf bytes.Buffer
	enc  *hpack.Encoder
}

func dialH2(t *testing.T, addr string, cfg *tls.Config, settings ...http2.Setting) *h2peer {
	t.Helper()
	var c net.Conn
	var err error
	if cfg != nil {
		cfg = cfg.Clone()
		cfg.NextProtos = []string{"h2"}
		c, err = tls.Dial("tcp", addr, cfg)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &h2peer{conn: c, fr: http2.NewFramer(c, c)}
	p.enc = hpack.NewEncoder(&p.hbuf)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := p.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	return p
}

// call opens stream id for method with msg, ending it unless unfinished.
func (p *h2peer) call(id uint32, method string, msg proto.Message, reset bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hbuf.Reset()
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", "x"}, {":path", "/igbank.v1.BankService/" + method}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
		_ = p.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: p.hbuf.Bytes(), EndHeaders: true}); err != nil {
		return err
	}
	if reset {
		return p.fr.WriteRSTStream(id, http2.ErrCodeCancel)
	}
	b, _ := proto.Marshal(msg)
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(b)))
	return p.fr.WriteData(id, true, append(frame, b...))
}

// ended reads until the server ends the connection, within d, and returns
// the GOAWAY code it sent, if it sent one.
func (p *h2peer) ended(t *testing.T, d time.Duration) (http2.ErrCode, bool) {
	t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	var code http2.ErrCode
	var sent bool
	for {
		f, err := p.fr.ReadFrame()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server kept the connection for %v", d)
			}
			return code, sent
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			code, sent = g.ErrCode, true
		}
	}
}

// The server's HTTP/2 guard ends a connection that keeps its window
// closed on replies (plaintext and over TLS) or resets streams without
// pause, and serves everyone else meanwhile.
func TestGuard(t *testing.T) {
	p := banktest.NewPKI(t)
	timeouts := grpcbank.WithTimeouts(transport.Timeouts{Read: 300 * time.Millisecond, Write: 300 * time.Millisecond})
	for _, secure := range []bool{false, true} {
		var srvTLS, cliTLS *tls.Config
		opts := []grpcbank.ServerOption{timeouts}
		dial := []grpcbank.ClientOption{}
		if secure {
			srvTLS, cliTLS = p.ServerTLS(t, false), p.ClientTLS(t, "teller")
			opts = append(opts, grpcbank.WithTLS(srvTLS, tlsconf.Limits{}))
			dial = append(dial, grpcbank.WithClientTLS(cliTLS))
		}
		name := map[bool]string{false: "plaintext", true: "tls"}[secure]
		addr := banktest.Serve(t, grpcbank.NewServer(bank.NewService(ledger.NewMemory(10)), opts...))
		wellBehaved := func(t *testing.T) {
			c, err := grpcbank.Dial(testCtx(t), addr, dial...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Balance(testCtx(t), ledger.SeedAccount(1)); err != nil {
				t.Fatalf("a well-behaved client during the attack: %v", err)
			}
		}
		t.Run(name+"/stalled-window", func(t *testing.T) {
			h := dialH2(t, addr, cliTLS, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			for id := uint32(1); id < 200; id += 2 {
				if err := h.call(id, "Balance", &igbankv1.BalanceRequest{Account: string(ledger.SeedAccount(1))}, false); err != nil {
					t.Fatal(err)
				}
			}
			wellBehaved(t)
			start := time.Now()
			h.ended(t, 5*time.Second)
			t.Logf("stalled connection ended after %v", time.Since(start))
			wellBehaved(t)
		})
		t.Run(name+"/rapid-reset", func(t *testing.T) {
			h := dialH2(t, addr, cliTLS)
			go func() {
				for id := uint32(1); id < 1<<20; id += 2 {
					if h.call(id, "Balance", nil, true) != nil {
						return
					}
				}
			}()
			code, sent := h.ended(t, 5*time.Second)
			if !sent || code != http2.ErrCodeEnhanceYourCalm {
				t.Errorf("GOAWAY %v (sent %v), want ENHANCE_YOUR_CALM", code, sent)
			}
			wellBehaved(t)
		})
	}
}
