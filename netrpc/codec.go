package netrpcbank

import (
	"bufio"
	"encoding/gob"
	"errors"
	"io"
	"net"
	"net/rpc"
	"runtime"
	"sync"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/connserver"
)

// serverCodec is net/rpc's gob server codec (the same bytes on the wire as
// rpc.ServeConn, so a plain rpc.Dial client works too) with what the
// standard one lacks: an idle timeout between requests, a read timeout
// within one, a write timeout per reply, a size limit per request, a limit
// on calls in flight, and a clean stop at a request boundary for Shutdown.
type serverCodec struct {
	conn *serverConn
	cfg  *serverConfig

	limit *countingReader
	rd    *bufio.Reader
	dec   *gob.Decoder
	wbuf  *bufio.Writer
	enc   *gob.Encoder

	// calls holds one token per call read and not yet answered; its
	// capacity is the per-connection limit. net/rpc answers every request
	// whose header it read, exactly once, through WriteResponse.
	calls chan struct{}

	wmu      sync.Mutex    // guards wbuf and enc: WriteResponse and the flusher
	flushReq chan struct{} // a reply is waiting in wbuf
	closed   chan struct{} // closed by Close: ends the flusher

	closeOnce sync.Once
	closeErr  error
}

var errServerClosing = errors.New(serverClosingErrorMessage)

func newServerCodec(c *serverConn) *serverCodec {
	cfg := &c.s.cfg
	limit := &countingReader{r: c.nc}
	rd := bufio.NewReader(limit)
	// Every write to the socket gets the write timeout, including the
	// writes that bypass wbuf: bufio.Writer hands a reply larger than its
	// free space (4 KiB) straight to the socket, which once went out with
	// no deadline, so a client that did not read held the call's
	// goroutine, its reply and the connection for ever.
	wbuf := bufio.NewWriter(connserver.DeadlineWriter{Conn: c.nc, Timeout: cfg.Timeouts.Write})
	return &serverCodec{
		conn:     c,
		cfg:      cfg,
		limit:    limit,
		rd:       rd,
		dec:      gob.NewDecoder(&gobMessages{r: rd, max: cfg.maxRequestBytes}),
		wbuf:     wbuf,
		enc:      gob.NewEncoder(wbuf),
		calls:    make(chan struct{}, cfg.maxCallsPerConn),
		flushReq: make(chan struct{}, 1),
		closed:   make(chan struct{}),
	}
}

// ReadRequestHeader implements rpc.ServerCodec.
func (sc *serverCodec) ReadRequestHeader(r *rpc.Request) error {
	sc.limit.remaining = sc.cfg.maxRequestBytes
	if err := sc.waitForRequest(); err != nil {
		return sc.readFailed(err)
	}
	// A request has begun. Take a call slot first: at the limit this
	// blocks, and the connection is not read until a call finishes.
	sc.calls <- struct{}{}
	sc.conn.nc.SetReadDeadline(connserver.Deadline(sc.cfg.Timeouts.Read))
	if err := sc.dec.Decode(r); err != nil {
		<-sc.calls
		return sc.readFailed(err)
	}
	// A call is in progress until WriteResponse, which net/rpc calls once
	// for every header read (package admit reclaims only idle
	// connections).
	sc.conn.adm.Begin()
	return nil
}

// waitForRequest returns when the first byte of a request is there. It
// gives up after the idle timeout, but only if no call of this connection
// is running, and stops at once when the server is shutting down.
func (sc *serverCodec) waitForRequest() error {
	for {
		if sc.conn.s.closing() {
			return errServerClosing
		}
		if sc.rd.Buffered() > 0 {
			return nil
		}
		sc.conn.nc.SetReadDeadline(connserver.Deadline(sc.cfg.Timeouts.Idle))
		// Checked again after setting the deadline: Shutdown sets the
		// flag and then a deadline in the past, so either this sees the
		// flag or Shutdown's deadline wins over ours.
		if sc.conn.s.closing() {
			return errServerClosing
		}
		_, err := sc.rd.Peek(1)
		if err == nil {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && len(sc.calls) > 0 && !sc.conn.s.closing() {
			continue // not idle: a call is still running
		}
		return err
	}
}

// readFailed ends the connection's reading. Unless the server is shutting
// down (when calls in flight must finish), the client is gone or broken,
// so the calls it still has running are canceled: nobody can read their
// replies.
func (sc *serverCodec) readFailed(err error) error {
	if !sc.conn.s.closing() {
		sc.conn.cancel()
	}
	if errors.Is(err, io.EOF) {
		return io.EOF // net/rpc's quiet way to end ServeCodec
	}
	return err
}

// ReadRequestBody implements rpc.ServerCodec. net/rpc sends the text of
// its error to the client as the call's reply, so the error says what
// happened in the convention's words (a typed error at our client), and
// nothing more: a socket error's text would name both addresses.
func (sc *serverCodec) ReadRequestBody(body any) error {
	err := sc.dec.Decode(body) // a nil body discards the value
	var ne net.Error
	switch {
	case err == nil, body == nil:
		return err
	case errors.As(err, &ne) && ne.Timeout():
		return errBodyTimeout
	case errors.Is(err, errRequestTooLarge), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return err
	case errors.As(err, &ne):
		return errBodyBroken
	}
	return err // gob's own words about the bytes the client sent
}

// The errors net/rpc sends back for a request body that did not arrive.
var (
	errBodyTimeout = errors.New(EncodeError(bank.Errorf(bank.DeadlineExceeded, "request body not received within the read timeout")))
	errBodyBroken  = errors.New(EncodeError(bank.Errorf(bank.Unavailable, "connection failed while reading the request body")))
)

// WriteResponse implements rpc.ServerCodec. net/rpc calls it for one
// reply at a time.
//
// Replies are coalesced: when other calls of the connection are still
// running, their replies are about to follow, so this one is left in the
// buffer and the flusher goroutine writes it after letting them run; the
// last call running flushes at once. Many callers on one connection then
// cost one write system call per batch instead of one per reply.
func (sc *serverCodec) WriteResponse(r *rpc.Response, body any) (err error) {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	defer func() {
		<-sc.calls
		sc.conn.adm.End()
	}()
	if err = sc.enc.Encode(r); err == nil {
		err = sc.enc.Encode(body)
	}
	if err == nil {
		if len(sc.calls) > 1 {
			select {
			case sc.flushReq <- struct{}{}:
			default: // a flush is already due
			}
			return nil
		}
		err = sc.flushLocked()
	}
	if err != nil {
		// A reply half written, or a client that does not read: the
		// stream cannot go on. Closing also ends the reader.
		sc.Close()
	}
	return err
}

// flushLocked writes what the buffer holds, bounded by the write timeout
// (connserver.DeadlineWriter). The caller holds wmu.
func (sc *serverCodec) flushLocked() error {
	if sc.wbuf.Buffered() == 0 {
		return nil
	}
	return sc.wbuf.Flush()
}

// flusher writes the replies WriteResponse left in the buffer. It yields
// first, so that calls about to answer can add theirs to the same write.
func (sc *serverCodec) flusher() {
	for {
		select {
		case <-sc.flushReq:
		case <-sc.closed:
			return
		}
		runtime.Gosched()
		sc.wmu.Lock()
		err := sc.flushLocked()
		sc.wmu.Unlock()
		if err != nil {
			sc.Close()
			return
		}
	}
}

// Close implements rpc.ServerCodec. It closes the socket (under TLS, the
// one beneath it: no close_notify, which could wait on a client that does
// not read; net/rpc has no goodbye to say anyway).
func (sc *serverCodec) Close() error {
	sc.closeOnce.Do(func() {
		close(sc.closed)
		sc.closeErr = sc.conn.raw.Close()
	})
	return sc.closeErr
}

// countingReader fails once more than remaining bytes are read through it;
// the codec resets remaining at every request.
type countingReader struct {
	r         io.Reader
	remaining int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.remaining <= 0 {
		return 0, errRequestTooLarge
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.r.Read(p)
	c.remaining -= int64(n)
	return n, err
}

// gobMessages hands gob its stream one message at a time, and refuses a
// message whose length is over max from that length, before gob reads
// it. gob allocates a message's buffer from its length field (up to
// 10 MiB at once), so without this a client could make the server hold
// 10 MiB per connection by announcing a message and sending nothing more
// until the read timeout; countingReader only stops the bytes that do
// arrive.
type gobMessages struct {
	r    *bufio.Reader
	max  int64
	left int64 // bytes of the current message (its length included) not yet read
}

var errBadLength = errors.New("gob: malformed message length")

func (g *gobMessages) Read(p []byte) (int, error) {
	if g.left == 0 {
		if err := g.next(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	g.left -= int64(n)
	return n, err
}

// ReadByte implements io.ByteReader, so that gob reads g itself rather
// than through a bufio.Reader of its own.
func (g *gobMessages) ReadByte() (byte, error) {
	if g.left == 0 {
		if err := g.next(); err != nil {
			return 0, err
		}
	}
	b, err := g.r.ReadByte()
	if err == nil {
		g.left--
	}
	return b, err
}

// next reads the length of the next message (gob's unsigned integer: one
// byte below 0x80, else the negated count of big-endian bytes that
// follow) without consuming it, and checks it against max.
func (g *gobMessages) next() error {
	b, err := g.r.Peek(1)
	if err != nil {
		return err
	}
	size, n := uint64(b[0]), 1
	if b[0] >= 0x80 {
		k := int(^b[0]) + 1
		if k > 8 {
			return errBadLength
		}
		h, err := g.r.Peek(1 + k)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		size = 0
		for _, c := range h[1:] {
			size = size<<8 | uint64(c)
		}
		n = 1 + k
	}
	if size > uint64(g.max) {
		return errRequestTooLarge
	}
	g.left = int64(n) + int64(size)
	return nil
}
