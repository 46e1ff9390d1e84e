package netrpcbank

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"runtime/debug"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/connserver"
)

const serverClosingErrorMessage = "server shutting down"

// Server serves a bank.Bank over net/rpc with gob. It is a transport.Server.
//
// net/rpc's own rpc.Server has no limits and no shutdown, so Server keeps
// its own listeners and connections (common/connserver): each connection
// gets a codec that applies the timeouts and limits and counts the calls
// in flight, and Shutdown stops reading new requests while the calls in
// flight finish.
type Server struct {
	bank bank.Bank
	cfg  serverConfig

	// base is the parent of every call's context; it is canceled when
	// Shutdown gives up waiting, so that calls still running can stop.
	base       context.Context
	cancelBase context.CancelFunc

	conns *connserver.Server // listeners, connections, accept loop, Shutdown
}

// NewServer returns a server of b.
func NewServer(b bank.Bank, opts ...ServerOption) *Server {
	cfg := defaultServerConfig()
	for _, o := range opts {
		o(&cfg)
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Server{bank: b, cfg: cfg, base: base, cancelBase: cancel}
	s.conns = connserver.New(connserver.Config{
		NewConn:  func(nc net.Conn) connserver.Conn { return newServerConn(s, nc) },
		MaxConns: cfg.MaxConns,
		Logger:   cfg.Logger.With("transport", "netrpc"),
		Abort:    cancel,
	})
	return s
}

// Serve accepts connections on l and serves each in its own goroutine
// until Shutdown, and then returns nil. l is wrapped in a LimitListener
// (WithMaxConns). Any other return is an error of the listener.
func (s *Server) Serve(l net.Listener) error { return s.conns.Serve(l) }

// Shutdown stops accepting, stops reading new requests, lets the calls in
// flight finish and send their replies until ctx ends, then closes every
// connection. It returns ctx.Err() if calls were cut off. A request the
// server had not started reading when Shutdown began is not served: its
// client sees its connection close and gets bank.ErrUnavailable.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.conns.Shutdown(ctx) // cancels the calls itself if it gives up
	s.cancelBase()
	return err
}

// closing reports whether Shutdown has begun.
func (s *Server) closing() bool { return s.conns.ShuttingDown() }

// serverConn is one client connection: its own rpc.Server, whose service
// carries the connection's context, and the codec that enforces limits.
type serverConn struct {
	s      *Server
	nc     net.Conn
	codec  *serverCodec
	ctx    context.Context
	cancel context.CancelFunc
}

func newServerConn(s *Server, nc net.Conn) *serverConn {
	ctx, cancel := context.WithCancel(s.base)
	c := &serverConn{s: s, nc: nc, ctx: ctx, cancel: cancel}
	c.codec = newServerCodec(c)
	return c
}

// Serve implements connserver.Conn.
func (c *serverConn) Serve() {
	defer c.cancel()
	rs := rpc.NewServer()
	if err := rs.RegisterName(ServiceName, &Service{conn: c}); err != nil {
		panic(err) // Service's method set is fixed; this is a bug
	}
	// ServeCodec returns after a read fails and every call in flight has
	// sent its reply; it then closes the codec, and so the connection.
	go c.codec.flusher()
	rs.ServeCodec(c.codec)
}

// Drain implements connserver.Conn: it makes the connection's reader stop
// at the next request boundary (Shutdown). Calls in flight go on.
func (c *serverConn) Drain() {
	c.nc.SetReadDeadline(time.Unix(1, 0))
}

// Close implements connserver.Conn.
func (c *serverConn) Close() {
	c.cancel()
	c.nc.Close()
}

// Service is the receiver net/rpc calls: one method per operation of
// bank.Bank, in net/rpc's shape func(*Args, *Reply) error. It is exported
// only because net/rpc requires it; use NewServer.
type Service struct {
	conn *serverConn
}

// callContext is the context of one call: the connection's, bounded by
// the Timeout the client sent and the server's maximum.
func (sv *Service) callContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	if limit := sv.conn.s.cfg.MaxCallTimeout; limit > 0 && (timeout <= 0 || timeout > limit) {
		timeout = limit
	}
	if timeout <= 0 {
		return context.WithCancel(sv.conn.ctx)
	}
	return context.WithTimeout(sv.conn.ctx, timeout)
}

// recoverTo turns a panic of the bank into an Internal error, so that one
// bad call cannot take the whole server down (net/rpc does not recover).
func (sv *Service) recoverTo(errp *error, method string) {
	if p := recover(); p != nil {
		sv.conn.s.cfg.Logger.Error("netrpcbank: panic in "+method, "panic", p, "stack", string(debug.Stack()))
		*errp = toWire(bank.Errorf(bank.Internal, "panic in %s", method))
	}
}

// wireError is the error a method returns: net/rpc sends its Error() text.
type wireError string

func (e wireError) Error() string { return string(e) }

func toWire(err error) error {
	if err == nil {
		return nil
	}
	return wireError(EncodeError(err))
}

// Balance is IGBank.Balance.
func (sv *Service) Balance(args *BalanceArgs, reply *BalanceReply) (err error) {
	defer sv.recoverTo(&err, MethodBalance)
	ctx, cancel := sv.callContext(args.Timeout)
	defer cancel()
	reply.Balance, err = sv.conn.s.bank.Balance(ctx, args.Account)
	return toWire(err)
}

// Statement is IGBank.Statement.
func (sv *Service) Statement(args *StatementArgs, reply *StatementReply) (err error) {
	defer sv.recoverTo(&err, MethodStatement)
	ctx, cancel := sv.callContext(args.Timeout)
	defer cancel()
	reply.Statement, err = sv.conn.s.bank.Statement(ctx, args.Account, args.Month)
	return toWire(err)
}

// Deposit is IGBank.Deposit.
func (sv *Service) Deposit(args *DepositArgs, reply *DepositReply) (err error) {
	defer sv.recoverTo(&err, MethodDeposit)
	ctx, cancel := sv.callContext(args.Timeout)
	defer cancel()
	reply.Receipt, err = sv.conn.s.bank.Deposit(ctx, args.Request)
	return toWire(err)
}

var errRequestTooLarge = errors.New("request larger than the server's limit")
