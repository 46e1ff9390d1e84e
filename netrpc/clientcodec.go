package netrpcbank

import (
	"bufio"
	"encoding/gob"
	"io"
	"net/rpc"
	"runtime"
	"sync"
	"sync/atomic"
)

// clientConn is one connection of a Client's pool: a net/rpc client over
// clientCodec, and the count of callers sending on it right now.
type clientConn struct {
	*rpc.Client
	sending atomic.Int32 // callers inside rpc.Client.Go
}

func newClientConn(conn io.ReadWriteCloser) *clientConn {
	cn := &clientConn{}
	cc := &clientCodec{
		conn:     conn,
		dec:      gob.NewDecoder(bufio.NewReader(conn)),
		sending:  &cn.sending,
		flushReq: make(chan struct{}, 1),
		closed:   make(chan struct{}),
	}
	cc.wbuf = bufio.NewWriter(conn)
	cc.enc = gob.NewEncoder(cc.wbuf)
	go cc.flusher()
	cn.Client = rpc.NewClientWithCodec(cc)
	return cn
}

// clientCodec is net/rpc's gob client codec (the same bytes on the wire)
// with coalesced writes: while other callers are sending on the
// connection, a request is left in the buffer for the last of them, or the
// flusher, to write, so that many parallel callers cost one write system
// call per batch rather than one per request. A caller alone flushes at
// once.
type clientCodec struct {
	conn io.ReadWriteCloser
	dec  *gob.Decoder

	wmu      sync.Mutex // guards wbuf and enc: WriteRequest and the flusher
	wbuf     *bufio.Writer
	enc      *gob.Encoder
	sending  *atomic.Int32
	flushReq chan struct{}
	closed   chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// WriteRequest implements rpc.ClientCodec. net/rpc calls it for one
// request at a time.
func (cc *clientCodec) WriteRequest(r *rpc.Request, body any) error {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	if err := cc.enc.Encode(r); err != nil {
		return err
	}
	if err := cc.enc.Encode(body); err != nil {
		return err
	}
	if cc.sending.Load() > 1 {
		select {
		case cc.flushReq <- struct{}{}:
		default: // a flush is already due
		}
		return nil
	}
	return cc.wbuf.Flush()
}

// flusher writes the requests WriteRequest left in the buffer, after
// yielding so that callers about to send can join the same write. A failed
// write closes the connection, which fails the calls waiting on it.
func (cc *clientCodec) flusher() {
	for {
		select {
		case <-cc.flushReq:
		case <-cc.closed:
			return
		}
		runtime.Gosched()
		cc.wmu.Lock()
		err := cc.wbuf.Flush()
		cc.wmu.Unlock()
		if err != nil {
			cc.Close()
			return
		}
	}
}

// ReadResponseHeader implements rpc.ClientCodec.
func (cc *clientCodec) ReadResponseHeader(r *rpc.Response) error { return cc.dec.Decode(r) }

// ReadResponseBody implements rpc.ClientCodec; a nil body discards.
func (cc *clientCodec) ReadResponseBody(body any) error { return cc.dec.Decode(body) }

// Close implements rpc.ClientCodec.
func (cc *clientCodec) Close() error {
	cc.closeOnce.Do(func() {
		close(cc.closed)
		cc.closeErr = cc.conn.Close()
	})
	return cc.closeErr
}
