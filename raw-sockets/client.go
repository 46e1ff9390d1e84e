package rawbank

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/connpool"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
)

// Client is a bank.Bank reached over the raw-sockets protocol. It is safe
// for concurrent use: calls are spread round-robin over a small pool of
// connections (a connpool.Shared), and many calls share each connection,
// told apart by request id. A broken connection is replaced on the next
// call that picks it.
type Client struct {
	addr string
	cfg  clientConfig
	tls  *tls.Config // cfg.TLS with ALPN and ServerName set; nil: plaintext
	pool *connpool.Shared[clientConn]
}

// Dial returns a client of the server at addr. It opens the first
// connection before it returns, so an unreachable server is reported here
// (as bank.ErrUnavailable, or the caller's deadline error), and so is a
// TLS handshake or a token the server refuses (bank.ErrUnauthenticated,
// or ErrUnavailable for a server that does not speak TLS); the other
// connections of the pool open on first use.
func Dial(ctx context.Context, addr string, opts ...ClientOption) (*Client, error) {
	c := &Client{addr: addr, cfg: defaultClientConfig()}
	for _, o := range opts {
		o(&c.cfg)
	}
	if !strOK(c.cfg.Token) {
		return nil, tooLong("bearer token")
	}
	c.tls = tlsconf.ForClient(c.cfg.TLS, addr, ALPN)
	c.pool = connpool.NewShared(connpool.SharedConfig[clientConn]{
		Size:   c.cfg.Conns,
		Dial:   c.dial,
		Close:  func(cc *clientConn) { cc.fail(net.ErrClosed) },
		Broken: (*clientConn).broken,
	})
	if _, err := c.conn(ctx, c.pool.Slot(0)); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes every connection; calls in flight fail with
// bank.ErrUnavailable, and so does every later call.
func (c *Client) Close() error {
	c.pool.Close()
	return nil
}

var errClientClosed = errors.New("rawbank: client closed")

// conn returns the slot's live connection, dialing one if needed (one
// caller dials, the others wait for it or for their context), as a typed
// bank error if it cannot.
func (c *Client) conn(ctx context.Context, s *connpool.Slot[clientConn]) (*clientConn, error) {
	cc, err := s.Get(ctx)
	if err != nil {
		if err == connpool.ErrClosed {
			return nil, bank.Wrap(bank.Unavailable, errClientClosed)
		}
		return nil, bank.FromContext(ctx, err)
	}
	return cc, nil
}

// dial opens a connection: TCP, then the TLS handshake if configured, then
// the Auth exchange if the client has a token, all within the dial
// timeout. A failure is not retried here: the call that needed the
// connection gets it, and a later call dials again.
func (c *Client) dial(ctx context.Context) (*clientConn, error) {
	if c.cfg.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.DialTimeout)
		defer cancel()
	}
	dial := c.cfg.Dialer
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if c.tls != nil {
		if nc, err = tlsconf.Handshake(ctx, nc, c.tls); err != nil {
			return nil, err
		}
	}
	cc := &clientConn{
		nc:      nc,
		pending: make(map[uint64]*call),
		done:    make(chan struct{}),
	}
	cc.fw = newFrameWriter(nc, clientWriteTimeout, clientMaxQueued, false, cc.fail)
	go cc.readLoop(newFrameReader(nc, 64<<10, MaxReplyFrame))
	if c.cfg.Token != "" {
		if err := cc.authenticate(ctx, c.cfg.Token); err != nil {
			cc.fail(err)
			return nil, err
		}
	}
	return cc, nil
}

// authenticate sends Auth with token as the connection's first request and
// waits for the answer within ctx.
func (cc *clientConn) authenticate(ctx context.Context, token string) error {
	cl := newCall(OpAuth)
	defer cl.free()
	cl.req = appendAuthRequest(cl.req, token)
	var timeout uint32
	if d, ok := ctx.Deadline(); ok {
		timeout = timeoutField(time.Until(d))
	}
	cc.mu.Lock()
	if cc.pending == nil {
		cc.mu.Unlock()
		return bank.FromContext(ctx, cc.err)
	}
	cc.lastID++
	id := cc.lastID
	cc.pending[id] = cl
	cc.mu.Unlock()
	cl.req = finishFrame(cl.req, id, timeout)
	if err := cc.fw.write(cl.req, true); err != nil {
		cc.fail(err)
	}
	if err := cc.wait(ctx, cl, id); err != nil {
		return err
	}
	if cl.replyOp == OpAuth|ReplyBit && cl.status == bank.InvalidArgument {
		// A server of revision 1.0 does not know the op.
		return bank.Errorf(bank.Unauthenticated, "the server does not take bearer tokens (it has no Auth op: protocol 1.0?): %s",
			bank.Detail(decodeError(cl.status, cl.payload)))
	}
	if err := cl.reply(); err != nil {
		return err
	}
	if err := decodeAuthReply(cl.payload); err != nil {
		return malformed(OpAuth, err)
	}
	return nil
}

// clientConn is one connection and its calls in flight.
type clientConn struct {
	nc net.Conn
	fw *frameWriter

	mu      sync.Mutex
	pending map[uint64]*call
	lastID  uint64
	err     error         // why the connection broke; nil while it works
	done    chan struct{} // closed when it breaks
}

func (cc *clientConn) broken() bool {
	select {
	case <-cc.done:
		return true
	default:
		return false
	}
}

// fail breaks the connection: every call in flight ends with err.
func (cc *clientConn) fail(err error) {
	cc.mu.Lock()
	if cc.err != nil {
		cc.mu.Unlock()
		return
	}
	cc.err = err
	close(cc.done)
	pending := cc.pending
	cc.pending = nil
	cc.mu.Unlock()
	cc.nc.Close()
	cc.fw.close()
	for _, cl := range pending {
		cl.finish(0, nil, err)
	}
}

// readLoop delivers each reply to its call until the connection breaks. A
// reply to an id no longer pending (its caller gave up) is dropped.
func (cc *clientConn) readLoop(fr *frameReader) {
	for {
		h, p, err := fr.next()
		if err != nil {
			cc.fail(tlsconf.Failure(err, ALPN)) // a certificate refused shows here with TLS 1.3
			return
		}
		if h.Op == OpGoodbye {
			cc.goodbye(h, p)
			return
		}
		if h.Op&ReplyBit == 0 {
			cc.fail(&FrameError{Reason: fmt.Sprintf("op %d from the server is not a reply", h.Op)})
			return
		}
		cc.mu.Lock()
		cl := cc.pending[h.ID]
		delete(cc.pending, h.ID)
		cc.mu.Unlock()
		if cl != nil {
			cl.replyOp = h.Op
			cl.finish(h.Status, p, nil)
		}
	}
}

// goodbye fails the call the server names with the server's error and
// every other call with Unavailable.
func (cc *clientConn) goodbye(h Header, p []byte) {
	err := decodeError(h.Status, p)
	if err == nil {
		err = bank.Errorf(bank.Unavailable, "server said goodbye")
	}
	cc.mu.Lock()
	cl := cc.pending[h.ID]
	delete(cc.pending, h.ID)
	cc.mu.Unlock()
	if cl != nil {
		cl.finish(0, nil, err)
	}
	// Not wrapped: the other calls must match only ErrUnavailable.
	cc.fail(bank.Errorf(bank.Unavailable, "server closed the connection: %v", err))
}

// call is one call in flight. Calls are pooled, with their buffers.
type call struct {
	op      byte
	req     []byte // the request frame being built
	replyOp byte
	status  bank.Code
	payload []byte // the reply's payload, copied out of the read buffer
	err     error  // a local failure: the connection broke
	done    chan struct{}
}

var callPool = sync.Pool{New: func() any {
	return &call{req: make([]byte, 0, 256), payload: make([]byte, 0, 64), done: make(chan struct{}, 1)}
}}

func newCall(op byte) *call {
	cl := callPool.Get().(*call)
	cl.op = op
	cl.req = beginFrame(cl.req[:0], op, bank.OK)
	return cl
}

func (cl *call) free() {
	if cap(cl.req) > maxPooledBuf || cap(cl.payload) > maxPooledBuf {
		return
	}
	cl.err = nil
	callPool.Put(cl)
}

// finish records the outcome; exactly one finish follows each registration.
func (cl *call) finish(status bank.Code, payload []byte, err error) {
	cl.status = status
	cl.payload = append(cl.payload[:0], payload...)
	cl.err = err
	cl.done <- struct{}{}
}

// roundTrip sends cl's request and waits for the reply. On success, the
// reply is in cl.status and cl.payload; a returned error is a typed bank
// error of the transport, the caller's deadline or cancellation.
func (c *Client) roundTrip(ctx context.Context, cl *call) error {
	if len(cl.req)+crcSize > MaxRequestFrame {
		return bank.Errorf(bank.InvalidArgument, "request of %d bytes is over the frame limit %d", len(cl.req)+crcSize, MaxRequestFrame)
	}
	var timeout uint32
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left <= 0 {
			return bank.FromContext(ctx, context.DeadlineExceeded)
		}
		timeout = timeoutField(left)
	}
	if err := ctx.Err(); err != nil {
		return bank.FromContext(ctx, err)
	}
	s := c.pool.Next()
	// A connection found broken before the request was written is safe to
	// replace: the server never saw the call. Try one fresh connection.
	for attempt := 0; ; attempt++ {
		cc, err := c.conn(ctx, s)
		if err != nil {
			return err
		}
		cc.mu.Lock()
		if cc.pending == nil {
			cc.mu.Unlock()
			if attempt == 0 {
				continue
			}
			return bank.FromContext(ctx, cc.err)
		}
		cc.lastID++
		id := cc.lastID
		cc.pending[id] = cl
		alone := len(cc.pending) == 1
		cc.mu.Unlock()
		cl.req = finishFrame(cl.req, id, timeout)
		if err := cc.fw.write(cl.req, alone); err != nil {
			cc.fail(err)
		}
		return cc.wait(ctx, cl, id)
	}
}

// wait waits for the reply to cl or for the caller's context to end.
func (cc *clientConn) wait(ctx context.Context, cl *call, id uint64) error {
	select {
	case <-cl.done:
	case <-ctx.Done():
		cc.mu.Lock()
		mine := cc.pending[id] == cl
		if mine {
			delete(cc.pending, id)
		}
		cc.mu.Unlock()
		if !mine { // the reply (or the failure) is being delivered: take it
			<-cl.done
		}
		return bank.FromContext(ctx, ctx.Err())
	}
	if cl.err != nil {
		return bank.FromContext(ctx, cl.err)
	}
	return nil
}

// reply returns nil for an OK reply whose op matches the call, the server's
// typed error for an error reply, and Internal for a reply that makes no
// sense.
func (cl *call) reply() error {
	switch {
	case cl.replyOp != cl.op|ReplyBit:
		return bank.Errorf(bank.Internal, "reply op %d to a call of op %d", cl.replyOp, cl.op)
	case cl.status != bank.OK:
		return decodeError(cl.status, cl.payload)
	}
	return nil
}

func malformed(op byte, err error) error {
	return &bank.Error{Code: bank.Internal, Message: fmt.Sprintf("malformed reply to op %d", op), Err: err}
}

func tooLong(what string) error {
	return bank.Errorf(bank.InvalidArgument, "%s is longer than the protocol's %d bytes", what, math.MaxUint16)
}

// Balance implements bank.Bank.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if !strOK(string(acc)) {
		return 0, tooLong("account")
	}
	cl := newCall(OpBalance)
	cl.req = appendBalanceRequest(cl.req, acc)
	if err := c.roundTrip(ctx, cl); err != nil {
		cl.free()
		return 0, err
	}
	defer cl.free()
	if err := cl.reply(); err != nil {
		return 0, err
	}
	m, err := decodeBalanceReply(cl.payload)
	if err != nil {
		return 0, malformed(OpBalance, err)
	}
	return m, nil
}

// Statement implements bank.Bank.
func (c *Client) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	if !strOK(string(req.Account)) || !strOK(string(req.Month)) || !strOK(req.PageToken) {
		return bank.Statement{}, tooLong("account, month or page token")
	}
	cl := newCall(OpStatementPage)
	req.PageSize = int(bank.PageSize32(req.PageSize))
	cl.req = appendStatementPageRequest(cl.req, req)
	if err := c.roundTrip(ctx, cl); err != nil {
		cl.free()
		return bank.Statement{}, err
	}
	defer cl.free()
	if err := cl.reply(); err != nil {
		return bank.Statement{}, err
	}
	st, err := decodeStatementReply(cl.payload, req.Account, req.Month, true)
	if err != nil {
		return bank.Statement{}, malformed(OpStatementPage, err)
	}
	return st, nil
}

// Deposit implements bank.Bank.
func (c *Client) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if !strOK(string(req.Account)) || !strOK(req.IdempotencyKey) {
		return bank.DepositReceipt{}, tooLong("account or idempotency key")
	}
	cl := newCall(OpDeposit)
	cl.req = appendDepositRequest(cl.req, req)
	if err := c.roundTrip(ctx, cl); err != nil {
		cl.free()
		return bank.DepositReceipt{}, err
	}
	defer cl.free()
	if err := cl.reply(); err != nil {
		return bank.DepositReceipt{}, err
	}
	r, err := decodeDepositReply(cl.payload)
	if err != nil {
		return bank.DepositReceipt{}, malformed(OpDeposit, err)
	}
	return r, nil
}

// clientWriteTimeout bounds each write to a server: a server that stops
// reading for this long has its connection broken and replaced.
const clientWriteTimeout = 10 * time.Second

// Health implements transport.HealthChecker with op Health (revision
// 1.3). A server of an older revision answers invalid_argument ("unknown
// op 6"), which Health returns.
func (c *Client) Health(ctx context.Context) (transport.HealthStatus, error) {
	cl := newCall(OpHealth)
	if err := c.roundTrip(ctx, cl); err != nil {
		cl.free()
		return transport.HealthUnknown, err
	}
	defer cl.free()
	if err := cl.reply(); err != nil {
		return transport.HealthUnknown, err
	}
	st, err := decodeHealthReply(cl.payload)
	if err != nil {
		return transport.HealthUnknown, malformed(OpHealth, err)
	}
	return st, nil
}
