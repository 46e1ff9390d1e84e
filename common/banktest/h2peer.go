package banktest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// H2Peer is a hand-driven HTTP/2 client connection, free to break the
// protocol's manners: the hostile peer of the HTTP/2 servers' tests. Its
// methods may be called from several goroutines.
type H2Peer struct {
	conn net.Conn
	fr   *http2.Framer
	mu   sync.Mutex // writes
	hbuf bytes.Buffer
	enc  *hpack.Encoder
}

// DialH2 connects to addr (over TLS with ALPN h2 when cfg is not nil),
// sends the client preface and a SETTINGS frame with settings. The
// connection is closed when the test ends.
func DialH2(t testing.TB, addr string, cfg *tls.Config, settings ...http2.Setting) *H2Peer {
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
	p := &H2Peer{conn: c, fr: http2.NewFramer(c, c)}
	p.enc = hpack.NewEncoder(&p.hbuf)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := p.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	return p
}

// GRPCMessage frames msg as a gRPC message (uncompressed).
func GRPCMessage(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg))), msg...)
}

// Call opens stream id with a gRPC POST to path and sends body on it,
// ending the stream if end.
func (p *H2Peer) Call(id uint32, path string, body []byte, end bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.headers(id, path, end && body == nil); err != nil || body == nil {
		return err
	}
	return p.fr.WriteData(id, end, body)
}

// Reset opens stream id with a gRPC POST to path and resets it at once:
// one round of an HTTP/2 rapid reset.
func (p *H2Peer) Reset(id uint32, path string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.headers(id, path, false); err != nil {
		return err
	}
	return p.fr.WriteRSTStream(id, http2.ErrCodeCancel)
}

// WindowUpdate opens stream id's window (the connection's for 0) by n.
func (p *H2Peer) WindowUpdate(id, n uint32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fr.WriteWindowUpdate(id, n)
}

func (p *H2Peer) headers(id uint32, path string, end bool) error {
	p.hbuf.Reset()
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", "igbank"}, {":path", path}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
		_ = p.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return p.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: p.hbuf.Bytes(), EndHeaders: true, EndStream: end})
}

// Ended reads (and drops) frames until the server ends the connection,
// failing the test if it has not within d, and returns the error code of
// the GOAWAY frame the server sent, if it sent one.
func (p *H2Peer) Ended(t testing.TB, d time.Duration) (code http2.ErrCode, goAway bool) {
	t.Helper()
	code, goAway, _ = p.released(t, d, 0)
	return code, goAway
}

// Released reads (and drops) frames until the server has either ended the
// connection or reset n streams, failing the test if neither happened
// within d.
func (p *H2Peer) Released(t testing.TB, d time.Duration, n int) {
	t.Helper()
	p.released(t, d, n)
}

func (p *H2Peer) released(t testing.TB, d time.Duration, n int) (code http2.ErrCode, goAway bool, resets int) {
	t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	for n == 0 || resets < n {
		f, err := p.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("after %v the server kept the connection and reset %d of %d streams", d, resets, n)
			}
			break
		}
		switch f := f.(type) {
		case *http2.GoAwayFrame:
			code, goAway = f.ErrCode, true
		case *http2.RSTStreamFrame:
			resets++
		}
	}
	return code, goAway, resets
}

// RunHTTP2Abuse runs the HTTP/2 abuse section over transport variant v,
// whose server speaks gRPC over HTTP/2, in plaintext and over TLS, with
// read and write timeouts of 300 ms: a peer that keeps its window closed on
// 100 replies loses its connection, as does a peer resetting streams
// without pause (with GOAWAY ENHANCE_YOUR_CALM), and a well-behaved client
// is served before and after. (A server may release a stalled reply by
// resetting its stream instead: net/http's write timeout does.) balance is the gRPC message of a Balance
// request for ledger.SeedAccount(1), sent to path.
//
// tlsResets says whether the server polices resets over TLS as in
// plaintext; when not, that case is skipped (Connect: net/http serves
// HTTP/2 over TLS itself, with its own defences).
func RunHTTP2Abuse(t *testing.T, v transport.Variant, path string, balance []byte, tlsResets bool) {
	p := NewPKI(t)
	for _, secure := range []bool{false, true} {
		cfg := transport.ServerConfig{Timeouts: transport.Timeouts{Read: 300 * time.Millisecond, Write: 300 * time.Millisecond}}
		var ccfg transport.ClientConfig
		if secure {
			cfg.TLS, ccfg.TLS = p.ServerTLS(t, false), p.ClientTLS(t, "teller")
		}
		addr := Serve(t, v.NewServer(bank.NewService(ledger.NewMemory(Accounts)), cfg))
		wellBehaved := func(t *testing.T) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := dial(t, v, addr, ccfg).Balance(ctx, ledger.SeedAccount(1)); err != nil {
				t.Fatalf("a well-behaved client: %v", err)
			}
		}
		name := map[bool]string{false: "plaintext", true: "tls"}[secure]
		t.Run(name+"/stalled-window", func(t *testing.T) {
			h := DialH2(t, addr, ccfg.TLS, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			const streams = 100
			for id := uint32(1); id < 2*streams; id += 2 {
				if err := h.Call(id, path, balance, true); err != nil {
					t.Fatal(err)
				}
			}
			wellBehaved(t)
			h.Released(t, 5*time.Second, streams)
			wellBehaved(t)
		})
		t.Run(name+"/rapid-reset", func(t *testing.T) {
			if secure && !tlsResets {
				t.Skip("resets over TLS are net/http's to police (README.md)")
			}
			h := DialH2(t, addr, ccfg.TLS)
			go func() {
				for id := uint32(1); id < 1<<20; id += 2 {
					if h.Reset(id, path) != nil {
						return
					}
				}
			}()
			if code, sent := h.Ended(t, 5*time.Second); !sent || code != http2.ErrCodeEnhanceYourCalm {
				t.Errorf("GOAWAY %v (sent %v), want ENHANCE_YOUR_CALM", code, sent)
			}
			wellBehaved(t)
		})
	}
}
