// Package hostile is the misbehaving client: a hand-driven HTTP/2
// connection that breaks the protocol's manners (resets without pause,
// keeps its window closed, leaves requests unfinished). The servers' tests
// and the load generator's hostile suite use it; it attacks only the
// address it is given.
package hostile

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// H2Peer is a hand-driven HTTP/2 client connection, free to break the
// protocol's manners. Its methods may be called from several goroutines.
type H2Peer struct {
	conn net.Conn
	fr   *http2.Framer
	mu   sync.Mutex // writes
	hbuf bytes.Buffer
	enc  *hpack.Encoder
}

// DialH2 connects to addr (over TLS with ALPN h2 when cfg is not nil),
// sends the client preface and a SETTINGS frame with settings.
func DialH2(addr string, cfg *tls.Config, settings ...http2.Setting) (*H2Peer, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	var c net.Conn
	var err error
	if cfg != nil {
		cfg = cfg.Clone()
		cfg.NextProtos = []string{"h2"}
		c, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	p := &H2Peer{conn: c, fr: http2.NewFramer(c, c)}
	p.enc = hpack.NewEncoder(&p.hbuf)
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		c.Close()
		return nil, err
	}
	if err := p.fr.WriteSettings(settings...); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	return p, nil
}

// Close closes the connection.
func (p *H2Peer) Close() error { return p.conn.Close() }

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

// ErrKept is the error of Released when the server neither ended the
// connection nor reset the streams in time.
var ErrKept = errors.New("the server kept the connection")

// Released reads (and drops) frames until the server has ended the
// connection or, if n > 0, reset n streams, for at most d. It returns the
// error code of the GOAWAY frame the server sent, if it sent one, and
// ErrKept if neither happened within d.
func (p *H2Peer) Released(d time.Duration, n int) (code http2.ErrCode, goAway bool, err error) {
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	resets := 0
	for n == 0 || resets < n {
		f, err := p.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return code, goAway, fmt.Errorf("%w for %v (and reset %d of %d streams)", ErrKept, d, resets, n)
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
	return code, goAway, nil
}
