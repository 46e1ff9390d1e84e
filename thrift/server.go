package thriftbank

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/igbank/igbank/common/admit"
	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/connserver"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/thrift/gen/bankthrift"
)

func init() {
	// The generated processor starts a goroutine with a 5 ms ticker for
	// every call, only to cancel the handler's context if the client hangs
	// up meanwhile: half of the server's allocations per call. Our handlers
	// are bounded by WithMaxCallTimeout and by Shutdown instead, so we turn
	// the check off. The setting is global to the library; it is set here,
	// before any server runs, because changing it later would race with
	// running processors.
	thrift.ServerConnectivityCheckInterval = 0
}

// Server serves a bank.Bank over framed Thrift. It implements
// transport.Server.
//
// It runs its own accept loop around the generated processor rather than
// the library's TSimpleServer, which has no connection limit, no recovery
// from handler panics, and a Stop that either waits for every client to
// hang up or, with the global ServerStopTimeout, cuts calls off blindly.
// Here Shutdown closes idle connections at once and lets calls in progress
// finish.
//
// With TLS (WithTLS) the handshakes run apart from the accept loop
// (tlsconf.Listener), and with mutual TLS a connection's client
// certificate names the caller of its calls. Framed Thrift has no place
// for a bearer token, and this transport does not add one (see README.md),
// so the client certificate is its only credential. The server only
// authenticates: auth.Authorize, around the bank, decides.
type Server struct {
	cfg       serverConfig
	tls       *tls.Config // cfg.TLS with ALPN set; nil serves plaintext
	processor thrift.TProcessor
	protocols thrift.TProtocolFactory
	tconf     *thrift.TConfiguration

	baseCtx     context.Context // parent of every call's context
	cancelCalls context.CancelFunc

	conns *connserver.Server // listeners, connections, accept loop, Shutdown
	admit *admit.Admission   // the connection limit and first-request deadline
}

const (
	stateIdle   uint32 = iota // waiting for a request
	stateActive               // reading a request, running it, or writing its answer
)

type serverConn struct {
	s     *Server
	nc    net.Conn // a *tls.Conn with TLS
	raw   net.Conn // the socket under nc, closed to end the connection
	state atomic.Uint32
}

// Serve implements connserver.Conn.
func (c *serverConn) Serve() { c.s.serveConn(c) }

// Drain implements connserver.Conn: an idle connection is closed at once
// (making its read fail); an active one closes after its call, when
// setState reports that the server is shutting down.
func (c *serverConn) Drain() {
	if c.state.Load() == stateIdle {
		c.raw.Close()
	}
}

// Close implements connserver.Conn. With TLS, Drain and Close close the
// socket under the TLS connection: a close_notify could block on a peer
// that does not read, and they must not.
func (c *serverConn) Close() { c.raw.Close() }

// NewServer returns a server for b. It serves nothing until Serve.
func NewServer(b bank.Bank, opts ...ServerOption) *Server {
	cfg := defaultServerConfig()
	for _, o := range opts {
		o(&cfg)
	}
	cfg.Logger = cfg.Logger.With(logs.Transport, "thrift")
	b = logs.Hidden(b, cfg.Logger)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:         cfg,
		tls:         tlsconf.ForServer(cfg.TLS, cfg.wire.protocol.ALPN()),
		processor:   nil, // below: its handler asks s whether Shutdown has begun
		protocols:   cfg.wire.protocolFactory(),
		tconf:       cfg.wire.tconf(),
		baseCtx:     ctx,
		cancelCalls: cancel,
	}
	s.processor = bankthrift.NewBankProcessor(handler{b: b, log: cfg.Logger, closing: s.closing})
	s.conns = connserver.New(connserver.Config{
		NewConn: func(nc net.Conn) connserver.Conn {
			c := &serverConn{s: s, nc: nc, raw: nc}
			if tc, ok := nc.(*tls.Conn); ok {
				c.raw = tc.NetConn()
			}
			c.state.Store(stateActive)
			return c
		},
		Logger: cfg.Logger.With("transport", "thrift"),
		Abort:  cancel,
	})
	// A connection refused at a full server is closed: framed Thrift has
	// no message for it, and its client reports bank.ErrUnavailable.
	s.admit = cfg.Admission(nil)
	return s
}

// Serve accepts connections on l until Shutdown, then returns nil. It
// closes l. The connections are admitted (WithMaxConns,
// Timeouts.FirstRequest: package admit) before their TLS handshakes
// (tlsconf.Listener), which count toward the limit.
func (s *Server) Serve(l net.Listener) error {
	l = s.admit.Listener(l)
	if s.tls != nil {
		l = tlsconf.Listener(l, s.tls, s.cfg.Handshakes.Logged(s.cfg.Logger))
	}
	return s.conns.Serve(l)
}

// Shutdown stops accepting, closes idle connections, lets calls in
// progress finish and closes their connections after them. When ctx ends
// first, it cancels the calls' contexts, closes every connection and
// returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.conns.Shutdown(ctx) // cancels the calls itself if it gives up
	s.cancelCalls()
	return err
}

// closing reports whether Shutdown has begun.
func (s *Server) closing() bool { return s.conns.ShuttingDown() }

// setState moves c to state and reports whether c may go on: false once
// the server is shutting down (then c must close). Without a lock: c
// stores its state before it loads the flag, Shutdown stores the flag
// before it loads the states, and Go's atomics are sequentially
// consistent, so at least one of them sees the other. Either c sees the
// flag and stops, or Shutdown sees c idle and closes it (making its read
// fail), or sees it active and lets its call finish.
func (s *Server) setState(c *serverConn, state uint32) bool {
	c.state.Store(state)
	return !s.conns.ShuttingDown()
}

func (s *Server) serveConn(c *serverConn) {
	defer func() {
		// The processor decodes untrusted bytes; whatever goes wrong
		// there costs this connection, never the server.
		if r := recover(); r != nil {
			s.cfg.Logger.Error("panic recovered", logs.Peer, c.nc.RemoteAddr().String(), logs.Panic, r, logs.Stack, string(debug.Stack()))
		}
		c.raw.Close()
	}()
	// br lets the loop wait for the first byte of the next request under
	// the idle timeout before the framed transport reads the request
	// under the read timeout.
	br := bufio.NewReader(c.nc)
	frames := s.newFrames(br, connserver.DeadlineWriter{Conn: c.nc, Timeout: s.cfg.Timeouts.Write}, admit.Of(c.nc))
	proto := s.protocols.GetProtocol(frames)
	// The caller of every call on the connection: the client
	// certificate's subject with mutual TLS (the handshake is done), read
	// once; none otherwise.
	parent := s.baseCtx
	if tc, ok := c.nc.(*tls.Conn); ok {
		parent = auth.Authenticate(parent, nil, "", tc.ConnectionState().PeerCertificates)
	}
	calls := s.newCallContext(parent)
	defer calls.stop()
	for {
		if !s.setState(c, stateIdle) {
			return
		}
		c.nc.SetReadDeadline(connserver.Deadline(s.cfg.Timeouts.Idle))
		if _, err := br.Peek(1); err != nil {
			return
		}
		if !s.setState(c, stateActive) {
			return // shutting down: this request was never run
		}
		c.nc.SetReadDeadline(connserver.Deadline(s.cfg.Timeouts.Read))
		ctx := calls.start()
		ok, err := s.process(ctx, proto)
		frames.endCall()
		calls.end()
		if !inStep(ok, err) {
			return
		}
	}
}

// newProtocol stacks the framed transport and the protocol on the reader
// and writer of one connection.
func (s *Server) newProtocol(r io.Reader, w io.Writer) thrift.TProtocol {
	return s.protocols.GetProtocol(s.newFrames(r, w, nil))
}

// newFrames is the server's framed transport on the reader and writer of
// one connection, telling adm (if not nil) when a call begins and ends.
func (s *Server) newFrames(r io.Reader, w io.Writer, adm *admit.Conn) *serverFrames {
	frameMax := int(s.cfg.wire.maxFrameSize)
	return newServerFrames(r, w, min(MaxRequestFrame, frameMax), frameMax, adm)
}

// inStep reports whether the connection can carry another request after
// the processor returned ok and err.
func inStep(ok bool, err thrift.TException) bool {
	if ok {
		return true // answered, with a result or a bank exception
	}
	// An unknown method is answered and skipped, so the stream is still
	// in step. Anything else was a malformed request (answered with a
	// protocol error) or a failed connection: the stream is out of step.
	var ae thrift.TApplicationException
	return errors.As(err, &ae) && ae.TypeId() == thrift.UNKNOWN_METHOD
}

// process runs one request under ctx. ctx must not carry a deadline: the
// library's protocols retry a read that timed out without data for as long
// as the context has time left, which would turn the read timeout into a
// busy loop. (callContext cancels at the call timeout without a deadline.)
func (s *Server) process(ctx context.Context, proto thrift.TProtocol) (bool, thrift.TException) {
	return s.processor.Process(ctx, proto, proto)
}

// callContext gives the calls of one connection a context that is canceled
// when a call runs past the call timeout, or when Shutdown gives up on
// waiting. context.WithTimeout per call would cost 4 of the server's 10
// allocations per call; this reuses one context and one timer per
// connection and makes a new context only after one was canceled.
type callContext struct {
	parent  context.Context
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
}

// errCallTimeout is the cause of a call context canceled by the call
// timeout; the handler reports such a call as DeadlineExceeded.
var errCallTimeout = fmt.Errorf("thriftbank: the call ran past the server's call timeout: %w", context.DeadlineExceeded)

func (s *Server) newCallContext(parent context.Context) *callContext {
	cc := &callContext{parent: parent, timeout: s.cfg.MaxCallTimeout}
	cc.ctx, cc.cancel = context.WithCancelCause(cc.parent)
	return cc
}

func (cc *callContext) newTimer() {
	cancel := cc.cancel
	cc.timer = time.AfterFunc(cc.timeout, func() { cancel(errCallTimeout) })
}

// start returns the context of the next call and starts its timeout.
func (cc *callContext) start() context.Context {
	if cc.timeout > 0 {
		if cc.timer == nil {
			cc.newTimer()
		} else {
			cc.timer.Reset(cc.timeout)
		}
	}
	return cc.ctx
}

// end stops the call's timeout; if it fired, the next call gets a fresh
// context.
func (cc *callContext) end() {
	fired := cc.timer != nil && !cc.timer.Stop()
	if fired || cc.ctx.Err() != nil {
		cc.cancel(nil)
		cc.ctx, cc.cancel = context.WithCancelCause(cc.parent)
		if cc.timer != nil {
			cc.newTimer()
			cc.timer.Stop()
		}
	}
}

func (cc *callContext) stop() {
	if cc.timer != nil {
		cc.timer.Stop()
	}
	cc.cancel(nil)
}

// handler adapts a bank.Bank to the generated service interface: it maps
// values and errors, and turns a panic into an Internal exception so that
// the client gets an answer and the server stays up.
type handler struct {
	b       bank.Bank
	log     *slog.Logger
	closing func() bool // whether the server's Shutdown has begun
}

var _ bankthrift.Bank = handler{}

func (h handler) recoverCall(method string, err *error) {
	if r := recover(); r != nil {
		h.log.Error("panic recovered", logs.Method, method, logs.Panic, r, logs.Stack, string(debug.Stack()))
		*err = &bankthrift.Internal{Message: "internal error: the server failed while handling " + method}
	}
}

// toException maps err, reporting a call that the server's call timeout
// canceled as DeadlineExceeded rather than Canceled.
func (h handler) toException(ctx context.Context, err error) error {
	if bank.CodeOf(err) == bank.Canceled && errors.Is(context.Cause(ctx), errCallTimeout) {
		err = &bank.Error{Code: bank.DeadlineExceeded, Message: "the call ran past the server's call timeout", Err: err}
	}
	return toException(err)
}

func (h handler) Balance(ctx context.Context, account string) (_ int64, err error) {
	defer h.recoverCall("balance", &err)
	m, err := h.b.Balance(ctx, bank.AccountNo(account))
	if err != nil {
		return 0, h.toException(ctx, err)
	}
	return int64(m), nil
}

func (h handler) Statement(ctx context.Context, account, month string, pageSize int32, pageToken string) (_ *bankthrift.Statement, err error) {
	defer h.recoverCall("statement", &err)
	st, err := h.b.Statement(ctx, bank.StatementRequest{
		Account:   bank.AccountNo(account),
		Month:     bank.Month(month),
		PageSize:  int(pageSize),
		PageToken: pageToken,
	})
	if err != nil {
		return nil, h.toException(ctx, err)
	}
	return statementToWire(st), nil
}

func (h handler) Deposit(ctx context.Context, req *bankthrift.DepositRequest) (_ *bankthrift.DepositReceipt, err error) {
	defer h.recoverCall("deposit", &err)
	if req == nil {
		return nil, &bankthrift.InvalidArgument{Message: "deposit request is missing"}
	}
	r, err := h.b.Deposit(ctx, bank.DepositRequest{
		Account:        bank.AccountNo(req.Account),
		Amount:         bank.Money(req.Amount),
		IdempotencyKey: req.IdempotencyKey,
	})
	if err != nil {
		return nil, h.toException(ctx, err)
	}
	return &bankthrift.DepositReceipt{TransactionID: r.TransactionID, Balance: int64(r.Balance), Replayed: r.Replayed}, nil
}

// Health is health(): SERVING, or NOT_SERVING once Shutdown has begun.
// (Shutdown closes idle connections and the listener, so a probe usually
// gets its connection refused or closed, bank.ErrUnavailable, instead.)
func (h handler) Health(ctx context.Context) (_ bankthrift.HealthStatus, err error) {
	defer h.recoverCall("health", &err)
	if h.closing() {
		return bankthrift.HealthStatus_NOT_SERVING, nil
	}
	return bankthrift.HealthStatus_SERVING, nil
}
