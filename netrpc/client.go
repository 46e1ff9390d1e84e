package netrpcbank

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/rpc"
	"sync"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/connpool"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
)

// Client is a bank.Bank reached over net/rpc; it is a transport.Client and
// safe for concurrent use.
//
// Deadlines: net/rpc has no context, so a call is started with
// rpc.Client.Go and the client waits for whichever comes first, the reply
// or the end of the caller's context. A call abandoned that way is not
// stopped: the request has been sent, the server still runs it (within the
// Timeout sent in its arguments), and its reply, when it comes, is
// discarded. An abandoned Deposit may therefore have been applied; retry it
// with the same idempotency key to find out.
//
// Connections: the client keeps a small pool (WithConns; a
// connpool.Shared), dialed on first use, and replaces a connection that
// broke. A call that finds its connection already shut down
// (rpc.ErrShutdown: the request was never sent) is tried once more on a
// fresh connection; a call whose connection broke while it was in flight
// is not retried, and returns bank.ErrUnavailable.
//
// Security: with WithClientTLS every connection is TLS, and with a client
// certificate in the config its subject is the caller (mutual TLS). With
// WithToken each new connection first calls IGBank.Authenticate with the
// token and waits for the answer, which binds the token's principal to the
// connection (net/rpc has no metadata to carry a credential per call).
type Client struct {
	addr string
	cfg  clientConfig
	tls  *tls.Config // cfg.TLS with ALPN and ServerName set; nil: plaintext
	pool *connpool.Shared[clientConn]
}

var errClientClosed = errors.New("netrpcbank: client closed")

// Dial returns a client of the server at addr. It opens the first
// connection before it returns, so that an unreachable server is reported
// here (as bank.ErrUnavailable, or the context's error), and so is a TLS
// handshake or a token the server refuses (bank.ErrUnauthenticated, or
// ErrUnavailable for a server that does not speak TLS).
func Dial(ctx context.Context, addr string, opts ...ClientOption) (*Client, error) {
	cfg := defaultClientConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Dialer == nil {
		cfg.Dialer = (&net.Dialer{}).DialContext
	}
	c := &Client{addr: addr, cfg: cfg, tls: tlsconf.ForClient(cfg.TLS, addr, ALPN)}
	// One connection per slot, dialed by one caller at a time while the
	// others wait for it or for their own context.
	c.pool = connpool.NewShared(connpool.SharedConfig[clientConn]{
		Size:  cfg.Conns,
		Dial:  c.dialOne,
		Close: func(rc *clientConn) { rc.Close() },
	})
	if _, err := c.conn(ctx, c.pool.Slot(0)); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes every connection. Calls in flight return
// bank.ErrUnavailable; later calls too.
func (c *Client) Close() error {
	c.pool.Close()
	return nil
}

// conn returns the slot's connection, dialing it if needed, as a typed
// bank error if it cannot.
func (c *Client) conn(ctx context.Context, s *connpool.Slot[clientConn]) (*clientConn, error) {
	rc, err := s.Get(ctx)
	if err != nil {
		if err == connpool.ErrClosed {
			err = errClientClosed
		}
		return nil, bank.FromContext(ctx, err)
	}
	return rc, nil
}

// dialOne opens a connection: TCP, then the TLS handshake if configured,
// then IGBank.Authenticate if the client has a token, all within the dial
// timeout. A failure is not retried here: the call that needed the
// connection gets it, and a later call dials again.
func (c *Client) dialOne(ctx context.Context) (*clientConn, error) {
	dctx, cancel := ctx, context.CancelFunc(func() {})
	if c.cfg.DialTimeout > 0 {
		dctx, cancel = context.WithTimeout(ctx, c.cfg.DialTimeout)
	}
	defer cancel()
	nc, err := c.cfg.Dialer(dctx, "tcp", c.addr)
	if err != nil {
		return nil, c.dialFailed(ctx, dctx, "dial", err)
	}
	if c.tls != nil {
		tc, err := tlsconf.Handshake(dctx, nc, c.tls)
		if err != nil {
			return nil, c.dialFailed(ctx, dctx, "TLS handshake with", err)
		}
		nc = tc
	}
	rc := newClientConn(&writeTimeoutConn{Conn: nc, timeout: c.cfg.writeTimeout})
	if c.cfg.Token != "" {
		if err := c.authenticate(dctx, rc); err != nil {
			rc.Close()
			return nil, c.dialFailed(ctx, dctx, "IGBank.Authenticate at", err)
		}
	}
	return rc, nil
}

// dialFailed returns the error of a connection attempt that failed with
// err at step what.
func (c *Client) dialFailed(ctx, dctx context.Context, what string, err error) error {
	if ctx.Err() == nil && dctx.Err() != nil {
		// Our dial timeout, not the caller's deadline: the server is
		// unreachable. (Not wrapped: the cause would read as the
		// caller's deadline.)
		return bank.Errorf(bank.Unavailable, "%s %s: no answer within %v", what, c.addr, c.cfg.DialTimeout)
	}
	return err
}

// authenticate calls IGBank.Authenticate with the client's token on rc, a
// new connection, and waits for the answer within ctx.
func (c *Client) authenticate(ctx context.Context, rc *clientConn) error {
	var reply AuthenticateReply
	call := rc.Go(MethodAuthenticate, &AuthenticateArgs{Token: c.cfg.Token}, &reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := call.Error
	if err == nil {
		return nil
	}
	var se rpc.ServerError
	if errors.As(err, &se) {
		if berr, ok := DecodeError(string(se)); ok {
			return berr
		}
		return bank.Errorf(bank.Unauthenticated, "the server does not take bearer tokens (a server older than %s?): %v", MethodAuthenticate, err)
	}
	return tlsconf.Failure(err, ALPN)
}

// writeTimeoutConn bounds every write. rpc.Client.Go writes the request
// before it returns, so a server that stops reading would otherwise block
// the caller past its deadline; with this the write fails after the write
// timeout and the connection is replaced.
type writeTimeoutConn struct {
	net.Conn
	timeout time.Duration
}

func (c *writeTimeoutConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}

// doneChans recycles the channels calls are answered on; a channel is
// only put back after its one answer was received.
var doneChans = sync.Pool{New: func() any { return make(chan *rpc.Call, 1) }}

// call runs one net/rpc call under ctx and returns a typed bank error.
func (c *Client) call(ctx context.Context, method string, args, reply any) error {
	if err := ctx.Err(); err != nil {
		return bank.FromContext(ctx, err)
	}
	s := c.pool.Next()
	for attempt := 0; ; attempt++ {
		rc, err := c.conn(ctx, s)
		if err != nil {
			return err
		}
		done := doneChans.Get().(chan *rpc.Call)
		rc.sending.Add(1)
		call := rc.Go(method, args, reply, done)
		rc.sending.Add(-1)
		select {
		case <-call.Done:
			doneChans.Put(done)
		case <-ctx.Done():
			// Abandoned: the server still runs the call, and net/rpc
			// drops its reply into done, which is not reused.
			return bank.FromContext(ctx, ctx.Err())
		}
		err = call.Error
		if err == nil {
			return nil
		}
		var se rpc.ServerError
		if errors.As(err, &se) {
			if berr, ok := DecodeError(string(se)); ok {
				return berr
			}
			// The server answered, but not in this package's convention
			// (a net/rpc error such as an unknown method): a mismatch of
			// versions, not an outage, so not worth retrying.
			return &bank.Error{Code: bank.Internal, Message: "server error", Err: err}
		}
		s.Drop(rc)
		if errors.Is(err, rpc.ErrShutdown) && attempt == 0 && !c.pool.Closed() {
			continue // never sent: safe to send on a new connection
		}
		// With TLS 1.3 a refused client certificate shows here, as the
		// answer to the connection's first call.
		return bank.FromContext(ctx, tlsconf.Failure(err, ALPN))
	}
}

// timeout is what the caller has left, sent to the server in the
// arguments (0: no deadline).
func timeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), 1)
	}
	return 0
}

// Balance implements bank.Bank.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	var reply BalanceReply
	// reply is read only on success: an abandoned call's reply may still
	// be written by net/rpc after call returns.
	if err := c.call(ctx, MethodBalance, &BalanceArgs{Account: acc, Timeout: timeout(ctx)}, &reply); err != nil {
		return 0, err
	}
	return reply.Balance, nil
}

// Statement implements bank.Bank.
func (c *Client) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	var reply StatementReply
	err := c.call(ctx, MethodStatement, &StatementArgs{Account: req.Account, Month: req.Month, PageSize: req.PageSize, PageToken: req.PageToken, Timeout: timeout(ctx)}, &reply)
	if err != nil {
		return bank.Statement{}, err
	}
	return reply.Statement, nil
}

// Deposit implements bank.Bank.
func (c *Client) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	var reply DepositReply
	err := c.call(ctx, MethodDeposit, &DepositArgs{Request: req, Timeout: timeout(ctx)}, &reply)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	return reply.Receipt, nil
}

// Health implements transport.HealthChecker with IGBank.Health. A status
// other than SERVING and NOT_SERVING, from a newer server, is
// transport.HealthUnknown, which a probe takes as not serving.
func (c *Client) Health(ctx context.Context) (transport.HealthStatus, error) {
	var reply HealthReply
	if err := c.call(ctx, MethodHealth, &HealthArgs{Timeout: timeout(ctx)}, &reply); err != nil {
		return transport.HealthUnknown, err
	}
	switch st := transport.HealthStatus(reply.Status); st {
	case transport.Serving, transport.NotServing:
		return st, nil
	}
	return transport.HealthUnknown, nil
}
