package grpcbank

import (
	"context"
	"net"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/proto/igbankv1"
	"github.com/igbank/igbank/proto/pbbank"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

// Client is a bank.Bank over gRPC. All its calls share one ClientConn (one
// HTTP/2 connection, multiplexed); it is safe for concurrent use and
// implements transport.Client.
type Client struct {
	conn *grpc.ClientConn
	rpc  igbankv1.BankServiceClient
}

// DefaultConnectParams are the connection backoff and dial timeout of
// DefaultDialOptions: how soon the ClientConn dials again after a
// connection attempt failed.
//
// grpc-go's defaults (backoff.DefaultConfig: 1 s, x1.6 up to 120 s, and 20 s
// for a dial) suit a client that leans on gRPC alone. An IGBank client does
// not: the shared retry layer of common/ above it already backs off with
// jitter, under a retry budget and a circuit breaker. Stacked under it, the
// 1 s connection backoff makes every retry of that second fail at once with
// Unavailable (a call that does not wait for ready is not even sent while
// the channel is in TRANSIENT_FAILURE): one failed redial, say after a
// connection dropped while a response was lost and the redial met the same
// fault, turns the next retries into instant failures that spend the
// budget and open the breaker while the server is already reachable again.
// So the channel redials promptly, from 20 ms up to 1 s (the retry layer's
// default MaxBackoff: after a long outage the server is redialled about as
// soon as a retry would come anyway), with grpc-go's multiplier and jitter
// (redials of many clients stay spread). A dial gets 3 s (MinConnectTimeout;
// gRPC's 20 s would keep a dial to a black hole going long after calls gave
// up): room for TCP, TLS and the HTTP/2 settings exchange over a slow link.
// It must not be left zero: grpc-go would then give a dial only the current
// backoff delay. WithDialOptions(grpc.WithConnectParams(...)) replaces it.
func DefaultConnectParams() grpc.ConnectParams { return connectParams(defaultClientConfig()) }

func connectParams(cfg clientConfig) grpc.ConnectParams {
	dialTimeout := cfg.DialTimeout
	if dialTimeout <= 0 { // off: grpc-go's own default
		dialTimeout = 20 * time.Second
	}
	return grpc.ConnectParams{
		Backoff: backoff.Config{
			BaseDelay:  20 * time.Millisecond,
			Multiplier: backoff.DefaultConfig.Multiplier,
			Jitter:     backoff.DefaultConfig.Jitter,
			MaxDelay:   time.Second,
		},
		MinConnectTimeout: dialTimeout,
	}
}

// DefaultDialOptions are the options Dial starts from: plaintext (TLS
// with WithClientTLS), no built-in retries, prompt redials
// (DefaultConnectParams), keepalive within the server's policy, message
// limits and the performance settings measured in README.md.
func DefaultDialOptions() []grpc.DialOption { return dialOptions(defaultClientConfig()) }

func dialOptions(cfg clientConfig) []grpc.DialOption {
	creds := insecure.NewCredentials()
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(connectParams(cfg)),
		// gRPC's own retry policy (and hedging) is off, and so is any
		// service config a resolver might deliver that turns it back on:
		// IGBank clients are wrapped in the shared retry layer of common/,
		// which retries with backoff, a budget and idempotency keys. A
		// second retry loop underneath it would multiply attempts (3 x 3 =
		// 9 per call) without the budget knowing, exactly during the
		// outages when load must not grow.
		grpc.WithDisableRetry(),
		grpc.WithDisableServiceConfig(),
		// Ping after 30 s of silence, above the server's 10 s minimum, so
		// a dead connection is noticed without being sent GOAWAY.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                30 * time.Second,
			Timeout:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxResponseBytes),
			grpc.MaxCallSendMsgSize(MaxRequestBytes),
		),
		// Performance, as on the server: one write buffer per connection
		// shared with the encoder, and fixed flow-control windows (no BDP
		// pings, no window-update waits for small calls).
		grpc.WithSharedWriteBuffer(true),
		grpc.WithInitialWindowSize(1 << 20),
		grpc.WithInitialConnWindowSize(8 << 20),
	}
	if cfg.Dialer != nil {
		dial := cfg.Dialer
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return dial(ctx, "tcp", addr)
		}))
	}
	if cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{"authorization": "Bearer " + cfg.Token}))
	}
	return append(opts, clientTraceOptions(cfg.Tracer)...)
}

// bearer is the per-RPC credentials of a bearer token: the metadata
// every call carries. grpc-go copies it into each call's own headers, so
// one map serves every call.
type bearer map[string]string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return b, nil
}

// RequireTransportSecurity keeps the token off plaintext connections
// (Dial refuses a token without TLS before it comes to that).
func (bearer) RequireTransportSecurity() bool { return true }

// Dial returns a client of the gRPC server at addr (host:port). It does
// not wait for the connection: the first call does, within its own
// deadline, and a server that cannot be reached gives Unavailable then.
// ctx is not used; it is there for the common Dial signature.
func Dial(_ context.Context, addr string, opts ...ClientOption) (*Client, error) {
	cfg := defaultClientConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Token != "" && cfg.TLS == nil {
		return nil, bank.Errorf(bank.InvalidArgument, "a bearer token is sent over TLS only: WithToken needs WithClientTLS")
	}
	// passthrough: addr goes to the dialer as is (one server, no name
	// resolution beyond what net.Dial does).
	conn, err := grpc.NewClient("passthrough:///"+addr, append(dialOptions(cfg), cfg.dialOpts...)...)
	if err != nil {
		return nil, bank.Wrap(bank.InvalidArgument, err)
	}
	conn.Connect()
	return &Client{conn: conn, rpc: igbankv1.NewBankServiceClient(conn)}, nil
}

// Conn returns the client's ClientConn, to call other services of the same
// server (health, reflection) over the same connection.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection; calls in progress fail with Unavailable or
// Canceled.
func (c *Client) Close() error { return c.conn.Close() }

// Balance implements bank.Bank.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if err := pbbank.CheckUTF8(string(acc)); err != nil {
		return 0, err
	}
	r, err := c.rpc.Balance(ctx, &igbankv1.BalanceRequest{Account: string(acc)})
	if err != nil {
		return 0, pbbank.FromStatus(ctx, err)
	}
	return bank.Money(r.GetBalanceCents()), nil
}

// Statement implements bank.Bank.
func (c *Client) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	if err := pbbank.CheckUTF8(string(req.Account), string(req.Month), req.PageToken); err != nil {
		return bank.Statement{}, err
	}
	r, err := c.rpc.Statement(ctx, pbbank.StatementRequestToProto(req))
	if err != nil {
		return bank.Statement{}, pbbank.FromStatus(ctx, err)
	}
	return pbbank.StatementFromProto(r), nil
}

// Deposit implements bank.Bank.
func (c *Client) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if err := pbbank.CheckUTF8(string(req.Account), req.IdempotencyKey); err != nil {
		return bank.DepositReceipt{}, err
	}
	r, err := c.rpc.Deposit(ctx, pbbank.DepositRequestToProto(req))
	if err != nil {
		return bank.DepositReceipt{}, pbbank.FromStatus(ctx, err)
	}
	return pbbank.ReceiptFromProto(r), nil
}

// Health implements transport.HealthChecker with grpc.health.v1's Check of
// the bank service (the server marks it NOT_SERVING when Shutdown begins).
func (c *Client) Health(ctx context.Context) (transport.HealthStatus, error) {
	r, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: igbankv1.BankService_ServiceDesc.ServiceName})
	if err != nil {
		return transport.HealthUnknown, pbbank.FromStatus(ctx, err)
	}
	return pbbank.HealthFromProto(r.GetStatus()), nil
}
