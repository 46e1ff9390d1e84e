package netrpcbank

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/rpc"
	"runtime/debug"
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

const serverClosingErrorMessage = "server shutting down"

// Server serves a bank.Bank over net/rpc with gob. It is a transport.Server.
//
// net/rpc's own rpc.Server has no limits and no shutdown, so Server keeps
// its own listeners and connections (common/connserver): each connection
// gets a codec that applies the timeouts and limits and counts the calls
// in flight, and Shutdown stops reading new requests while the calls in
// flight finish.
//
// With TLS (WithTLS) the handshakes run apart from the accept loop
// (tlsconf.Listener), and a connection's client certificate names the
// caller of its calls; a client may instead bind a bearer token's
// principal to the connection with IGBank.Authenticate (WithTokens). The
// server only authenticates: auth.Authorize, around the bank, decides.
type Server struct {
	bank bank.Bank
	cfg  serverConfig
	tls  *tls.Config // cfg.TLS with ALPN set; nil serves plaintext

	// base is the parent of every call's context; it is canceled when
	// Shutdown gives up waiting, so that calls still running can stop.
	base       context.Context
	cancelBase context.CancelFunc

	conns *connserver.Server // listeners, connections, accept loop, Shutdown
	admit *admit.Admission   // the connection limit and first-request deadline
}

// NewServer returns a server of b.
func NewServer(b bank.Bank, opts ...ServerOption) *Server {
	cfg := defaultServerConfig()
	for _, o := range opts {
		o(&cfg)
	}
	cfg.Logger = cfg.Logger.With(logs.Transport, "netrpc")
	b = logs.Hidden(b, cfg.Logger)
	base, cancel := context.WithCancel(context.Background())
	s := &Server{bank: b, cfg: cfg, tls: tlsconf.ForServer(cfg.TLS, ALPN), base: base, cancelBase: cancel}
	// A connection refused at a full server is closed: net/rpc has no
	// message for it, and its client reports bank.ErrUnavailable.
	s.admit = cfg.Admission(nil)
	s.conns = connserver.New(connserver.Config{
		NewConn: func(nc net.Conn) connserver.Conn { return newServerConn(s, nc) },
		Logger:  cfg.Logger,
		Abort:   cancel,
	})
	return s
}

// Serve accepts connections on l and serves each in its own goroutine
// until Shutdown, and then returns nil. Any other return is an error of
// the listener. The connections are admitted (WithMaxConns,
// Timeouts.FirstRequest: package admit) before their TLS handshakes
// (tlsconf.Listener), which count toward the limit.
func (s *Server) Serve(l net.Listener) error {
	l = s.admit.Listener(l)
	if s.tls != nil {
		l = tlsconf.Listener(l, s.tls, s.cfg.Handshakes.Logged(s.cfg.Logger))
	}
	return s.conns.Serve(l)
}

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
	nc     net.Conn    // a *tls.Conn with TLS
	raw    net.Conn    // the socket under nc, closed when the connection ends
	adm    *admit.Conn // its slot: told when a call begins and ends
	codec  *serverCodec
	ctx    context.Context // canceled when the connection ends
	cancel context.CancelFunc
	certs  []*x509.Certificate // the client's verified chain, with mutual TLS

	// caller is the parent of every call's context: ctx, carrying the
	// connection's caller (auth.Authenticate) once it is known, from
	// the client certificate when the connection begins, or from the
	// token of IGBank.Authenticate. The caller is settled per
	// connection, never per call.
	caller        atomic.Pointer[context.Context]
	authenticated atomic.Bool // IGBank.Authenticate was called
}

func newServerConn(s *Server, nc net.Conn) *serverConn {
	ctx, cancel := context.WithCancel(s.base)
	c := &serverConn{s: s, nc: nc, raw: nc, adm: admit.Of(nc), ctx: ctx, cancel: cancel}
	caller := ctx
	if tc, ok := nc.(*tls.Conn); ok {
		// The handshake is done (tlsconf.Listener).
		c.raw = tc.NetConn()
		c.certs = tc.ConnectionState().PeerCertificates
		caller = auth.Authenticate(ctx, nil, "", c.certs)
	}
	c.caller.Store(&caller)
	c.codec = newServerCodec(c)
	return c
}

// authenticate is IGBank.Authenticate: it binds what token says to every
// later call of the connection, the principal it names or why it names
// none. It runs once per connection.
func (c *serverConn) authenticate(token string) (auth.Principal, error) {
	if token == "" {
		return "", bank.Errorf(bank.InvalidArgument, "empty bearer token")
	}
	if !c.authenticated.CompareAndSwap(false, true) {
		return "", bank.Errorf(bank.InvalidArgument, "this connection has authenticated already")
	}
	tokens := c.s.cfg.Tokens
	caller := auth.Authenticate(c.ctx, tokens, token, c.certs)
	c.caller.Store(&caller)
	if p, ok := auth.FromContext(caller); ok {
		return p, nil
	}
	// Refused: say why. (Verified again only on this rare path; the
	// context holds the reason but hands it out only to auth.Authorize.)
	if tokens == nil {
		return "", bank.Errorf(bank.Unauthenticated, "this server does not take bearer tokens")
	}
	if _, err := tokens.Verify(token); err != nil {
		return "", err
	}
	return "", bank.Errorf(bank.Unauthenticated, "bearer token refused")
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

// Close implements connserver.Conn. With TLS it closes the socket under
// the TLS connection: a close_notify could block on a peer that does not
// read, and Close must not.
func (c *serverConn) Close() {
	c.cancel()
	c.raw.Close()
}

// Service is the receiver net/rpc calls: one method per operation of
// bank.Bank, in net/rpc's shape func(*Args, *Reply) error. It is exported
// only because net/rpc requires it; use NewServer.
type Service struct {
	conn *serverConn
}

// callContext is the context of one call: the connection's, carrying its
// caller, bounded by the Timeout the client sent and the server's maximum.
func (sv *Service) callContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	if limit := sv.conn.s.cfg.MaxCallTimeout; limit > 0 && (timeout <= 0 || timeout > limit) {
		timeout = limit
	}
	parent := *sv.conn.caller.Load()
	if timeout <= 0 {
		return context.WithCancel(parent)
	}
	return context.WithTimeout(parent, timeout)
}

// recoverTo turns a panic of the bank into an Internal error, so that one
// bad call cannot take the whole server down (net/rpc does not recover).
func (sv *Service) recoverTo(errp *error, method string) {
	if p := recover(); p != nil {
		sv.conn.s.cfg.Logger.Error("panic recovered", logs.Method, method, logs.Panic, p, logs.Stack, string(debug.Stack()))
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
	reply.Statement, err = sv.conn.s.bank.Statement(ctx, bank.StatementRequest{Account: args.Account, Month: args.Month, PageSize: args.PageSize, PageToken: args.PageToken})
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

// Authenticate is IGBank.Authenticate (see AuthenticateArgs).
func (sv *Service) Authenticate(args *AuthenticateArgs, reply *AuthenticateReply) (err error) {
	defer sv.recoverTo(&err, MethodAuthenticate)
	p, err := sv.conn.authenticate(args.Token)
	reply.Principal = string(p)
	return toWire(err)
}

// Health is IGBank.Health: SERVING, or NOT_SERVING once Shutdown has
// begun. (Shutdown stops reading requests on every connection and closes
// the listener, so a probe usually sees its connection refused or closed,
// bank.ErrUnavailable, instead; a request read before Shutdown began is
// answered NOT_SERVING.)
func (sv *Service) Health(args *HealthArgs, reply *HealthReply) (err error) {
	defer sv.recoverTo(&err, MethodHealth)
	reply.Status = int(transport.Serving)
	if sv.conn.s.closing() {
		reply.Status = int(transport.NotServing)
	}
	return nil
}

var errRequestTooLarge = errors.New("request larger than the server's limit")
