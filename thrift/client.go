package thriftbank

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/connpool"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/thrift/gen/bankthrift"
)

// Client is a bank.Bank reached over framed Thrift. A generated Thrift
// client carries one call at a time on its connection, so Client keeps a
// pool of connections (a connpool.Exclusive), each with its own transport,
// protocol and generated client, and lends one to each call. It is safe for concurrent use.
//
// A call's deadline (its context's, or the default call timeout) becomes
// the connection's socket deadline, and canceling the context interrupts
// the call. A connection whose call failed in any way other than a bank
// exception is closed rather than returned to the pool, since a late
// answer could still be on its way.
//
// With WithClientTLS every connection is TLS, and with a client
// certificate in the config its subject is the caller (mutual TLS), the
// only credential this transport carries.
type Client struct {
	addr string
	cfg  clientConfig
	tls  *tls.Config // cfg.TLS with ALPN and ServerName set; nil: plaintext
	pool *connpool.Exclusive[*clientConn]
}

type clientConn struct {
	nc     net.Conn
	client *bankthrift.BankClient
	// fresh until the connection's first call: a server closes a
	// connection that sends no request for a few seconds
	// (transport.Timeouts.FirstRequest).
	fresh   bool
	dialled time.Time
}

// freshFor is how long after its dial a connection that has carried no
// call is still lent: well within any server's first-request deadline
// (5 s by default), so that a Client dialled long before its first call
// does not send that call on a connection the server has closed.
const freshFor = time.Second

var _ transport.Client = (*Client)(nil)

// errClosed is returned by calls on a closed Client.
var errClosed = bank.Errorf(bank.Unavailable, "thriftbank: client is closed")

// Dial returns a client of the server at addr. It opens one connection
// within ctx to check that the server is there (and, with TLS, that it
// takes the client: a refused handshake is bank.ErrUnauthenticated, a
// server that does not speak TLS bank.ErrUnavailable); the pool opens more
// as concurrent calls need them.
//
// A bearer token (transport.ClientConfig.Token, as a descriptor's caller
// may set it) is refused with bank.ErrInvalidArgument: framed Thrift
// cannot carry one, and a credential must not be dropped silently.
func Dial(ctx context.Context, addr string, opts ...ClientOption) (*Client, error) {
	cfg := defaultClientConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Token != "" {
		return nil, bank.Errorf(bank.InvalidArgument, "thriftbank: framed Thrift carries no bearer token; authenticate with a client certificate (mutual TLS)")
	}
	c := &Client{addr: addr, cfg: cfg, tls: tlsconf.ForClient(cfg.TLS, addr, cfg.wire.protocol.ALPN())}
	c.pool = connpool.NewExclusive(connpool.ExclusiveConfig[*clientConn]{
		Max:   max(cfg.Conns, 1),
		Dial:  c.dial,
		Close: func(cc *clientConn) { cc.nc.Close() },
	})
	cc, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	cc.fresh = true // it has carried no call: lent within freshFor only
	c.pool.Put(cc)
	return c, nil
}

// Close closes the idle connections, and every other one as its call
// ends. Calls after Close fail with Unavailable.
func (c *Client) Close() error {
	c.pool.Close()
	return nil
}

// dial opens a connection, and runs the TLS handshake if configured, both
// within the dial timeout. A failure is not retried here: the call that
// needed the connection gets it, and a later call dials again.
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
		tc, err := tlsconf.Handshake(ctx, nc, c.tls)
		if err != nil {
			return nil, err
		}
		nc = tc
	}
	tconf := c.cfg.wire.tconf()
	// The stream transport's buffered writer turns the framed transport's
	// two writes (length, then body) into one.
	trans := thrift.NewTFramedTransportConf(thrift.NewStreamTransport(nc, nc), tconf)
	proto := c.cfg.wire.protocolFactory().GetProtocol(trans)
	return &clientConn{nc: nc, client: bankthrift.NewBankClient(thrift.NewTStandardClient(proto, proto)),
		fresh: true, dialled: time.Now()}, nil
}

// get lends a connection (connpool.Exclusive): an idle one, a new one
// while the pool has room, or else the first one returned, within ctx.
// Give it back with c.pool.Put, or c.pool.Discard if it cannot serve
// another call.
func (c *Client) get(ctx context.Context) (*clientConn, error) {
	if c.pool.Closed() {
		return nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, bank.FromContext(ctx, err)
	}
	for {
		cc, err := c.pool.Get(ctx)
		if err != nil {
			if err == connpool.ErrClosed {
				return nil, errClosed
			}
			return nil, bank.FromContext(ctx, err)
		}
		if cc.fresh && time.Since(cc.dialled) > freshFor {
			c.pool.Discard(cc) // Dial's connection, unused too long
			continue
		}
		cc.fresh = false
		return cc, nil
	}
}

// noDeadline is the context handed to the generated client. The call's
// deadline and cancellation act through the socket instead (see call):
// given a context with a deadline, the library's protocols retry a read
// that timed out without data until that context ends, which would spin.
var noDeadline = context.Background()

// aLongTimeAgo is a deadline in the past: setting it interrupts a blocked
// read or write at once.
var aLongTimeAgo = time.Unix(1, 0)

// call lends a connection to f under ctx's deadline and maps the outcome:
// a bank exception to its typed error, any other failure through
// bank.FromContext (socket timeouts as DeadlineExceeded).
func call[T any](c *Client, ctx context.Context, f func(*bankthrift.BankClient) (T, error)) (T, error) {
	var zero T
	cc, err := c.get(ctx)
	if err != nil {
		return zero, err
	}
	d, ok := ctx.Deadline()
	if !ok && c.cfg.CallTimeout > 0 {
		d = time.Now().Add(c.cfg.CallTimeout)
	}
	cc.nc.SetDeadline(d)
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { cc.nc.SetDeadline(aLongTimeAgo) })
	}
	v, err := f(cc.client)
	// If the AfterFunc has run, or is running, the connection's deadline
	// is (about to be) in the past: it cannot serve another call.
	interrupted := stop != nil && !stop()
	if err == nil {
		if interrupted {
			c.pool.Discard(cc)
		} else {
			c.pool.Put(cc)
		}
		return v, nil
	}
	if be, ok := fromException(err); ok {
		if interrupted {
			c.pool.Discard(cc)
		} else {
			c.pool.Put(cc)
		}
		return zero, be
	}
	c.pool.Discard(cc)
	var ae thrift.TApplicationException
	switch {
	case ctx.Err() != nil:
	case errors.As(err, &ae):
		// The server answered, but not with a bank exception: a failure
		// of its own, or a message we do not understand.
		return zero, &bank.Error{Code: bank.Internal, Message: "thrift application exception", Err: err}
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The socket deadline is the call's deadline, and it may pass a
		// moment before ctx notices.
		return zero, &bank.Error{Code: bank.DeadlineExceeded, Err: err}
	}
	// With TLS 1.3 a refused client certificate shows here, as the
	// answer to the connection's first call.
	return zero, bank.FromContext(ctx, tlsconf.Failure(err, c.cfg.wire.protocol.ALPN()))
}

// Balance implements bank.Bank.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	v, err := call(c, ctx, func(tc *bankthrift.BankClient) (int64, error) {
		return tc.Balance(noDeadline, string(acc))
	})
	return bank.Money(v), err
}

// Statement implements bank.Bank.
func (c *Client) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	st, err := call(c, ctx, func(tc *bankthrift.BankClient) (*bankthrift.Statement, error) {
		return tc.Statement(noDeadline, string(req.Account), string(req.Month), bank.PageSize32(req.PageSize), req.PageToken)
	})
	if err != nil {
		return bank.Statement{}, err
	}
	return statementFromWire(st), nil
}

// Deposit implements bank.Bank.
func (c *Client) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	r, err := call(c, ctx, func(tc *bankthrift.BankClient) (*bankthrift.DepositReceipt, error) {
		return tc.Deposit(noDeadline, &bankthrift.DepositRequest{
			Account:        string(req.Account),
			Amount:         int64(req.Amount),
			IdempotencyKey: req.IdempotencyKey,
		})
	})
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	return bank.DepositReceipt{TransactionID: r.TransactionID, Balance: bank.Money(r.Balance), Replayed: r.Replayed}, nil
}

// Health implements transport.HealthChecker with health(), in one attempt.
// A status other than SERVING and NOT_SERVING, from a newer server, is
// transport.HealthUnknown, which a probe takes as not serving; a server
// older than health() answers a TApplicationException, reported as
// internal.
func (c *Client) Health(ctx context.Context) (transport.HealthStatus, error) {
	st, err := call(c, ctx, func(tc *bankthrift.BankClient) (bankthrift.HealthStatus, error) {
		return tc.Health(noDeadline)
	})
	if err != nil {
		return transport.HealthUnknown, err
	}
	switch st {
	case bankthrift.HealthStatus_SERVING:
		return transport.Serving, nil
	case bankthrift.HealthStatus_NOT_SERVING:
		return transport.NotServing, nil
	}
	return transport.HealthUnknown, nil
}
