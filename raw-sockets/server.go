package rawbank

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/admit"
	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/connserver"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
)

// Server serves a bank.Bank over the raw-sockets protocol. Each connection
// has one goroutine that reads frames and hands each call to an idle worker
// of that connection, or to a new one if none is idle; the workers write
// their replies through a shared buffered writer that coalesces them into
// few system calls.
//
// With TLS (WithTLS) the handshakes run apart from the accept loop
// (tlsconf.Listener), and a connection's client certificate names the
// caller of its calls; a client may instead authenticate the connection
// with a bearer token (op Auth, WithTokens). The server only
// authenticates: auth.Authorize, around the bank, decides.
type Server struct {
	bank bank.Bank
	cfg  serverConfig
	tls  *tls.Config // cfg.TLS with ALPN set; nil serves plaintext

	conns *connserver.Server // listeners, connections, accept loop, Shutdown
	admit *admit.Admission   // the connection limit and first-request deadline
}

// NewServer returns a server of b.
func NewServer(b bank.Bank, opts ...ServerOption) *Server {
	s := &Server{cfg: defaultServerConfig()}
	for _, o := range opts {
		o(&s.cfg)
	}
	s.cfg.Logger = s.cfg.Logger.With(logs.Transport, "raw")
	s.bank = logs.Hidden(b, s.cfg.Logger)
	s.tls = tlsconf.ForServer(s.cfg.TLS, ALPN)
	refuse := refuseFull
	if s.tls != nil {
		refuse = nil // a frame in the clear means nothing to a TLS client: close
	}
	s.admit = s.cfg.Admission(refuse)
	s.conns = connserver.New(connserver.Config{
		NewConn: func(nc net.Conn) connserver.Conn { return s.newConn(nc) },
		Logger:  s.cfg.Logger.With("transport", "raw"),
	})
	return s
}

// Serve accepts connections on l until Shutdown, then returns nil. Any
// other return is an error of the listener. The connections are admitted
// (WithMaxConns, Timeouts.FirstRequest: package admit) before their TLS
// handshakes, which count toward the limit.
func (s *Server) Serve(l net.Listener) error {
	l = s.admit.Listener(l)
	if s.tls != nil {
		l = tlsconf.Listener(l, s.tls, s.cfg.Handshakes.Logged(s.cfg.Logger))
	}
	return s.conns.Serve(l)
}

// refuseFull answers a connection that the server has no room for, every
// connection having a call in progress: a Goodbye unavailable, then a
// half-close and a short drain, as goodbye does, so that its client reads
// the Goodbye rather than a reset.
func refuseFull(nc net.Conn) {
	b := appendErrorMessage(beginFrame(nil, OpGoodbye, bank.Unavailable), "server full: every connection has a call in progress")
	if _, err := nc.Write(finishFrame(b, 0, 0)); err != nil {
		return
	}
	if cw, ok := nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		io.Copy(io.Discard, io.LimitReader(nc, 64<<10)) // until the deadline admit set
	}
}

// Shutdown stops accepting, stops reading new calls, lets the calls in
// flight finish and sends their replies, says Goodbye on every connection
// and closes it. If ctx ends first, it closes every connection at once,
// canceling the calls' contexts, and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error { return s.conns.Shutdown(ctx) }

// shutting reports whether Shutdown has begun.
func (s *Server) shutting() bool { return s.conns.ShuttingDown() }

var aLongTimeAgo = time.Unix(1, 0)

// serverConn is one client connection.
type serverConn struct {
	s   *Server
	nc  net.Conn    // a *tls.Conn with TLS
	raw net.Conn    // the socket under nc, closed when the connection is cut off
	adm *admit.Conn // its slot: told when a call begins and ends
	fr  *frameReader
	fw  *frameWriter
	// ctx is the parent of the connection's calls: canceled when the
	// connection is torn down, and carrying its caller (auth.Authenticate:
	// the client certificate's, or after Auth the token's). The reader
	// sets it before it hands out the first call and never after.
	ctx         context.Context
	cancel      context.CancelFunc
	certs       []*x509.Certificate // the client's verified certificate chain, with mutual TLS
	started     bool                // a request has been read; only the reader touches it
	calls       sync.WaitGroup
	inflight    atomic.Int32
	sem         chan struct{} // one token per call in flight
	idleWorkers atomic.Int32
	work        chan request // unbuffered: a send succeeds only to an idle worker
	idsMu       sync.Mutex
	ids         map[uint64]struct{} // the request ids of the calls in flight
}

// newConn makes the connection that serves nc; the caller registers it.
func (s *Server) newConn(nc net.Conn) *serverConn {
	c := &serverConn{s: s, nc: nc, raw: nc, adm: admit.Of(nc), sem: make(chan struct{}, s.cfg.maxCallsPerConn), work: make(chan request)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if tc, ok := nc.(*tls.Conn); ok {
		// The handshake is done (tlsconf.Listener): the peer's
		// certificate is known once, for every call of the connection.
		c.raw = tc.NetConn()
		c.certs = tc.ConnectionState().PeerCertificates
		c.ctx = auth.Authenticate(c.ctx, nil, "", c.certs)
	}
	// Requests are small: 4 KiB holds dozens of pipelined ones, and a
	// larger frame goes through scratch. Every connection holds this
	// buffer, so its size is most of what a quiet connection costs.
	c.fr = newFrameReader(nc, 4<<10, MaxRequestFrame)
	c.fr.idle, c.fr.read = s.cfg.Timeouts.Idle, s.cfg.Timeouts.Read
	c.fr.setDeadline = func(t time.Time) error {
		err := nc.SetReadDeadline(t)
		if s.shutting() { // Shutdown may have just woken us: stay woken
			err = nc.SetReadDeadline(aLongTimeAgo)
		}
		return err
	}
	c.fw = newFrameWriter(nc, s.cfg.Timeouts.Write, maxQueued, true, func(error) { c.raw.Close() })
	return c
}

// Drain implements connserver.Conn: it wakes the connection's reader,
// which then sees the server shutting down, answers the calls in flight
// and says Goodbye.
func (c *serverConn) Drain() { c.nc.SetReadDeadline(aLongTimeAgo) }

// Close implements connserver.Conn.
func (c *serverConn) Close() { c.abort() }

// abort cuts the connection off: the socket first, so that no reply of a
// call it cuts short can still get out, then the calls' context. With TLS
// it closes the socket under the TLS connection, as a close_notify could
// block on a peer that does not read.
func (c *serverConn) abort() {
	c.raw.Close()
	c.fw.close()
	c.cancel()
}

// request is a decoded call.
type request struct {
	h    Header
	dep  bank.DepositRequest   // Account is set for every op
	page bank.StatementRequest // Account and Month too for OpStatement
}

// Serve implements connserver.Conn.
func (c *serverConn) Serve() {
	defer c.abort()
	for !c.s.shutting() {
		h, p, err := c.fr.next()
		if err == errIdle && c.inflight.Load() > 0 && !c.s.shutting() {
			continue // not idle: a call is still being served
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		if h.ID == 0 {
			c.readFailed(&FrameError{Reason: "request id 0"})
			return
		}
		first := !c.started
		c.started = true
		// A request is in: the connection is busy until its reply is
		// queued (package admit reclaims only idle connections).
		c.adm.Begin()
		req := request{h: h}
		var perr error
		switch h.Op {
		case OpBalance:
			req.dep.Account, perr = decodeBalanceRequest(p)
		case OpStatement:
			req.page.Account, req.page.Month, perr = decodeStatementRequest(p)
			req.dep.Account = req.page.Account
		case OpStatementPage:
			req.page, perr = decodeStatementPageRequest(p)
			req.dep.Account = req.page.Account
		case OpDeposit:
			req.dep, perr = decodeDepositRequest(p)
		case OpAuth:
			c.authenticate(h, p, first)
			c.adm.End()
			continue
		case OpHealth:
			c.health(h, p)
			c.adm.End()
			continue
		default:
			c.statusReply(h, bank.InvalidArgument, fmt.Sprintf("unknown op %d: this server speaks version %s (ops 1 to %d)", h.Op, Revision, MaxOp))
			c.adm.End()
			continue
		}
		if perr != nil {
			c.statusReply(h, bank.InvalidArgument, fmt.Sprintf("malformed payload of op %d", h.Op))
			c.adm.End()
			continue
		}
		if !c.track(h.ID) {
			// Two calls in flight under one id could not be told apart
			// by their replies: the client is broken, and its
			// connection ends (PROTOCOL.md, "Request ids").
			c.adm.End()
			c.calls.Wait()
			c.readFailed(&FrameError{ID: h.ID, Reason: fmt.Sprintf("request id %d is already in flight on this connection", h.ID)})
			return
		}
		c.sem <- struct{}{}
		c.calls.Add(1)
		c.inflight.Add(1)
		select {
		case c.work <- req: // an idle worker took it
		default:
			go c.worker(req)
		}
	}
	c.calls.Wait()
	c.goodbye(bank.Unavailable, 0, "server shutting down")
}

// readFailed ends the connection after a failed read, with the Goodbye
// that PROTOCOL.md prescribes for the failure.
func (c *serverConn) readFailed(err error) {
	// Calls read before the failure are answered first.
	c.calls.Wait()
	var fe *FrameError
	switch {
	case c.s.shutting() && (isTimeout(err) || err == errIdle):
		c.goodbye(bank.Unavailable, 0, "server shutting down")
	case err == errIdle:
		c.goodbye(bank.Unavailable, 0, "connection idle")
	case errors.As(err, &fe):
		c.goodbye(bank.InvalidArgument, fe.ID, fe.Error())
	case isTimeout(err):
		c.goodbye(bank.DeadlineExceeded, 0, "frame not completed within the read timeout")
	}
	// Anything else (EOF, reset) means the client is gone: just close.
}

// goodbye sends the connection's last frame, then half-closes and drains
// what the client still sends for a moment, so that the client reads the
// Goodbye rather than a reset.
func (c *serverConn) goodbye(status bank.Code, id uint64, msg string) {
	bp := getBuf()
	defer putBuf(bp)
	b := appendErrorMessage(beginFrame((*bp)[:0], OpGoodbye, status), msg)
	*bp = finishFrame(b, id, 0)
	if c.fw.write(*bp, false) != nil || c.fw.sync() != nil {
		return
	}
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		c.nc.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, io.LimitReader(c.nc, 1<<20))
	}
}

// authenticate answers an Auth request. As the connection's first request
// it binds what its token says to every later call of the connection: the
// principal it names, or why it names none (then every call is
// unauthenticated, whatever the client's certificate says). The token is
// checked once, here, not per call. Any other Auth is refused and changes
// nothing.
func (c *serverConn) authenticate(h Header, p []byte, first bool) {
	token, err := decodeAuthRequest(p)
	switch {
	case err != nil:
		c.statusReply(h, bank.InvalidArgument, "malformed payload of op 4 (Auth): want one non-empty token")
		return
	case !first:
		c.statusReply(h, bank.InvalidArgument, "Auth must be the first request on a connection")
		return
	}
	tokens := c.s.cfg.Tokens
	c.ctx = auth.Authenticate(c.ctx, tokens, token, c.certs)
	if _, ok := auth.FromContext(c.ctx); ok {
		c.statusReply(h, bank.OK, "")
		return
	}
	// Refused: say why. (Verified again only on this rare path; the
	// context holds the reason but hands it out only to auth.Authorize.)
	why := bank.Errorf(bank.Unauthenticated, "this server does not take bearer tokens")
	if tokens != nil {
		if _, err := tokens.Verify(token); err != nil {
			why = err
		}
	}
	c.statusReply(h, bank.Unauthenticated, bank.Detail(why))
}

// health answers OpHealth: SERVING, or NOT_SERVING once Shutdown has
// begun. Its request has no payload.
func (c *serverConn) health(h Header, p []byte) {
	if len(p) != 0 {
		c.statusReply(h, bank.InvalidArgument, fmt.Sprintf("malformed payload of op %d", h.Op))
		return
	}
	st := transport.Serving
	if c.s.shutting() {
		st = transport.NotServing
	}
	b := append(beginFrame(nil, h.Op|ReplyBit, bank.OK), byte(st))
	c.fw.write(finishFrame(b, h.ID, 0), c.inflight.Load() == 0)
}

// track records id as in flight, or reports false if it already is.
func (c *serverConn) track(id uint64) bool {
	c.idsMu.Lock()
	defer c.idsMu.Unlock()
	if _, dup := c.ids[id]; dup {
		return false
	}
	if c.ids == nil {
		c.ids = make(map[uint64]struct{})
	}
	c.ids[id] = struct{}{}
	return true
}

// untrack forgets id, before its reply is written: the client may use it
// again once it has the reply.
func (c *serverConn) untrack(id uint64) {
	c.idsMu.Lock()
	delete(c.ids, id)
	c.idsMu.Unlock()
}

// statusReply answers one request with a status and a message, without a
// result: an error reply, or an OK reply with an empty payload (Auth). The
// connection stays open.
func (c *serverConn) statusReply(h Header, status bank.Code, msg string) {
	bp := getBuf()
	defer putBuf(bp)
	b := appendErrorMessage(beginFrame((*bp)[:0], h.Op|ReplyBit, status), msg)
	*bp = finishFrame(b, h.ID, 0)
	c.fw.write(*bp, c.inflight.Load() == 0)
}

// worker serves req, then waits for more calls until the connection ends.
// Workers are started only when no idle one is there to take a call, so
// a slow call never holds up another, and a busy connection reuses its
// workers instead of starting (and allocating) a goroutine per call.
// At most maxIdleWorkers wait per connection; the rest of a burst's
// workers exit, so a burst does not leave its goroutines behind.
func (c *serverConn) worker(req request) {
	var quiet *time.Timer
	for {
		c.handle(req)
		if c.idleWorkers.Add(1) > maxIdleWorkers {
			c.idleWorkers.Add(-1)
			return
		}
		if quiet == nil {
			quiet = time.NewTimer(workerIdleTimeout)
		} else {
			quiet.Reset(workerIdleTimeout)
		}
		select {
		case req = <-c.work:
			c.idleWorkers.Add(-1)
		case <-quiet.C:
			// A quiet connection keeps no worker: its stack is most of
			// what an idle connection would cost beyond its reader.
			c.idleWorkers.Add(-1)
			return
		case <-c.ctx.Done():
			return
		}
	}
}

// maxIdleWorkers is how many workers a connection keeps waiting for
// calls; a worker waits workerIdleTimeout at most.
const (
	maxIdleWorkers    = 16
	workerIdleTimeout = time.Second
)

// handle runs one call and writes its reply.
func (c *serverConn) handle(req request) {
	defer func() {
		c.inflight.Add(-1)
		<-c.sem
		c.adm.End()
		c.calls.Done()
	}()
	ctx := c.ctx
	if req.h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.h.Timeout)*time.Microsecond)
		defer cancel()
	}
	bp := getBuf()
	defer putBuf(bp)
	*bp = c.s.reply((*bp)[:0], ctx, req)
	c.untrack(req.h.ID)
	c.fw.write(*bp, c.inflight.Load() == 1)
}

// reply appends the complete reply frame to req to b.
func (s *Server) reply(b []byte, ctx context.Context, req request) (frame []byte) {
	op := req.h.Op | ReplyBit
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.Error("panic recovered", logs.Method, req.h.Op, logs.Panic, p, logs.Stack, string(debug.Stack()))
			frame = finishFrame(appendErrorMessage(beginFrame(b[:0], op, bank.Internal), "internal error"), req.h.ID, 0)
		}
	}()
	var err error
	b = beginFrame(b, op, bank.OK)
	switch req.h.Op {
	case OpBalance:
		var m bank.Money
		if m, err = s.bank.Balance(ctx, req.dep.Account); err == nil {
			b = appendBalanceReply(b, m)
		}
	case OpStatement:
		// The whole month in one reply, as before revision 1.2, if it is
		// one page of the largest size; a longer month is refused rather
		// than cut short, since this reply cannot say that more follows.
		var st bank.Statement
		if st, err = s.bank.Statement(ctx, bank.StatementRequest{Account: req.page.Account, Month: req.page.Month, PageSize: bank.MaxPageSize}); err == nil {
			if st.NextPageToken != "" {
				err = bank.Errorf(bank.InvalidArgument, "the statement has more than %d transactions: read it in pages with op %d (StatementPage, revision 1.2)", bank.MaxPageSize, OpStatementPage)
			} else {
				b = appendStatementReply(b, &st)
			}
		}
	case OpStatementPage:
		var st bank.Statement
		if st, err = s.bank.Statement(ctx, req.page); err == nil {
			b = appendStatementPageReply(b, &st)
		}
	case OpDeposit:
		var r bank.DepositReceipt
		if r, err = s.bank.Deposit(ctx, req.dep); err == nil {
			b = appendDepositReply(b, r)
		}
	}
	if err == nil && len(b)+crcSize > MaxReplyFrame {
		// Cannot happen: bank.MaxPageSize transactions of the largest
		// size take well under 1 MiB (docs/architecture.md).
		err = bank.Errorf(bank.Internal, "reply of %d bytes is over the frame limit", len(b)+crcSize)
	}
	if err != nil {
		code := bank.CodeOf(err)
		if code == bank.OK { // cannot happen for a non-nil err; be safe
			code = bank.Internal
		}
		b = appendErrorMessage(beginFrame(b[:0], op, code), bank.Detail(err))
	}
	return finishFrame(b, req.h.ID, 0)
}
