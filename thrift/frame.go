package thriftbank

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/igbank/igbank/common/admit"
)

// MaxRequestFrame is the largest request frame the server reads (or
// WithMaxFrameSize, if smaller). A request is an account number, a month
// or a deposit of a few hundred bytes; replies may use the whole of
// WithMaxFrameSize.
const MaxRequestFrame = 64 << 10

// serverFrames is the server's framed transport: the wire format of
// thrift.TFramedTransport (a 4-byte big-endian length, then the message),
// with the limits a server needs. Its read buffer grows as the frame's
// bytes arrive, never from the length field, so a peer that announces a
// large frame and sends part of it pins only what it sent (at most twice
// that, in capacity) until the read timeout ends the connection; the
// library's transport instead kept every buffer, however large, in a
// pool shared by all connections. A request frame is limited to
// maxRead, a reply to maxWrite. It tells the connection's admission when
// a request has arrived whole and when its call has ended.
type serverFrames struct {
	r        io.Reader // the connection's buffered reader
	w        io.Writer // the connection, with the write timeout
	maxRead  int
	maxWrite int
	adm      *admit.Conn
	inCall   bool // Begin was said for the frame being served

	rbuf []byte // the frame being read; rbuf[rpos:] is unread
	rpos int
	wbuf []byte // the reply being written, after 4 bytes for its length
	hdr  [4]byte
}

// keepBuf is the largest buffer kept from one request to the next.
const keepBuf = 4 << 10

func newServerFrames(r io.Reader, w io.Writer, maxRead, maxWrite int, adm *admit.Conn) *serverFrames {
	return &serverFrames{r: r, w: w, maxRead: maxRead, maxWrite: maxWrite, adm: adm, wbuf: make([]byte, 4, 512)}
}

// readFrame reads the next frame into rbuf.
func (f *serverFrames) readFrame() error {
	if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
		return thrift.NewTTransportExceptionFromError(err)
	}
	n := binary.BigEndian.Uint32(f.hdr[:])
	if uint64(n) > uint64(f.maxRead) {
		return thrift.NewTTransportException(thrift.UNKNOWN_TRANSPORT_EXCEPTION,
			fmt.Sprintf("frame of %d bytes is over the limit of %d", n, f.maxRead))
	}
	size := int(n)
	if cap(f.rbuf) > keepBuf {
		f.rbuf = nil // let a large frame's buffer go
	}
	f.rbuf, f.rpos = f.rbuf[:0], 0
	for len(f.rbuf) < size {
		if len(f.rbuf) == cap(f.rbuf) {
			// Grow with what has arrived: double, never past the frame.
			nb := make([]byte, len(f.rbuf), min(max(2*len(f.rbuf), 512), size))
			copy(nb, f.rbuf)
			f.rbuf = nb
		}
		m, err := f.r.Read(f.rbuf[len(f.rbuf):min(cap(f.rbuf), size)])
		f.rbuf = f.rbuf[:len(f.rbuf)+m]
		if err != nil && len(f.rbuf) < size {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return thrift.NewTTransportExceptionFromError(err)
		}
	}
	if !f.inCall {
		f.inCall = true
		f.adm.Begin()
	}
	return nil
}

// endCall tells the admission that the call of the last frame has ended.
func (f *serverFrames) endCall() {
	if f.inCall {
		f.inCall = false
		f.adm.End()
	}
}

// Read implements io.Reader over the frames: the rest of the current one,
// or the next.
func (f *serverFrames) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for f.rpos == len(f.rbuf) {
		if err := f.readFrame(); err != nil {
			return 0, err
		}
	}
	n := copy(p, f.rbuf[f.rpos:])
	f.rpos += n
	return n, nil
}

// ReadByte implements io.ByteReader.
func (f *serverFrames) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := f.Read(b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// RemainingBytes is what is left of the current frame: the protocols
// check the lengths they read against it before they allocate.
func (f *serverFrames) RemainingBytes() uint64 { return uint64(len(f.rbuf) - f.rpos) }

// Write adds p to the reply.
func (f *serverFrames) Write(p []byte) (int, error) {
	f.wbuf = append(f.wbuf, p...)
	return len(p), nil
}

// WriteByte adds c to the reply.
func (f *serverFrames) WriteByte(c byte) error {
	f.wbuf = append(f.wbuf, c)
	return nil
}

// WriteString adds s to the reply.
func (f *serverFrames) WriteString(s string) (int, error) {
	f.wbuf = append(f.wbuf, s...)
	return len(s), nil
}

// Flush sends the reply as one frame, in one write (bounded by the write
// timeout). A reply over maxWrite is dropped and fails the connection.
func (f *serverFrames) Flush(context.Context) error {
	size := len(f.wbuf) - 4
	defer func() {
		if cap(f.wbuf) > keepBuf {
			f.wbuf = make([]byte, 4, 512)
		}
		f.wbuf = f.wbuf[:4]
	}()
	if size > f.maxWrite {
		return thrift.NewTTransportException(thrift.UNKNOWN_TRANSPORT_EXCEPTION,
			fmt.Sprintf("reply frame of %d bytes is over the limit of %d", size, f.maxWrite))
	}
	binary.BigEndian.PutUint32(f.wbuf, uint32(size))
	_, err := f.w.Write(f.wbuf)
	return thrift.NewTTransportExceptionFromError(err)
}

// Open, IsOpen and Close complete thrift.TTransport; the server's loop
// owns the connection and closes it.
func (f *serverFrames) Open() error  { return nil }
func (f *serverFrames) IsOpen() bool { return true }
func (f *serverFrames) Close() error { return nil }

var _ thrift.TRichTransport = (*serverFrames)(nil)
