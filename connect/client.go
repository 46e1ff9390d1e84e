package connectbank

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/connect/igbankv1connect"
	"github.com/igbank/igbank/proto/igbankv1"
	"github.com/igbank/igbank/proto/pbbank"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// Protocol is the wire protocol a Client speaks. The server speaks all.
type Protocol int

const (
	// Connect is the Connect protocol: plain HTTP POST (or GET for
	// Balance and Statement) with the message as the body.
	Connect Protocol = iota
	// GRPC is the gRPC protocol, over HTTP/2.
	GRPC
	// GRPCWeb is the gRPC-Web protocol.
	GRPCWeb
)

// Protocols lists every protocol, in the order of their constants.
var Protocols = []Protocol{Connect, GRPC, GRPCWeb}

func (p Protocol) String() string {
	switch p {
	case Connect:
		return "connect"
	case GRPC:
		return "grpc"
	case GRPCWeb:
		return "grpcweb"
	}
	return fmt.Sprintf("protocol(%d)", int(p))
}

// ParseProtocol is the inverse of Protocol.String.
func ParseProtocol(s string) (Protocol, bool) {
	for _, p := range Protocols {
		if p.String() == s {
			return p, true
		}
	}
	return 0, false
}

// Client is a bank.Bank over Connect, gRPC or gRPC-Web. It is safe for
// concurrent use and implements transport.Client.
type Client struct {
	rpc        igbankv1connect.BankServiceClient
	health     *grpchealth.Client
	transports []*http.Transport
}

// Dial returns a client of the server at addr (host:port). Connections are
// made by the first calls, within their deadlines. ctx is not used; it is
// there for the common Dial signature.
func Dial(_ context.Context, addr string, opts ...ClientOption) (*Client, error) {
	cfg := defaultClientConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, bank.Errorf(bank.InvalidArgument, "address %q is not host:port", addr)
	}
	if cfg.Token != "" && cfg.TLS == nil {
		return nil, bank.Errorf(bank.InvalidArgument, "a bearer token is sent over TLS only: WithToken needs WithClientTLS")
	}
	c := &Client{}
	if cfg.http1Conns > 0 && cfg.protocol == GRPC {
		return nil, bank.Errorf(bank.InvalidArgument, "the gRPC protocol needs HTTP/2, not WithHTTP1")
	}
	hc := cfg.httpClient
	if hc == nil && cfg.http1Conns > 0 {
		t := newTransport(cfg)
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP1(true)
		if t.TLSClientConfig != nil {
			t.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		t.MaxConnsPerHost, t.MaxIdleConnsPerHost = cfg.http1Conns, cfg.http1Conns
		c.transports = append(c.transports, t)
		hc = roundTripper{t}
	}
	if hc == nil {
		for range max(cfg.Conns, 1) {
			c.transports = append(c.transports, newTransport(cfg))
		}
		hc = roundRobin(c.transports)
	}
	copts := []connect.ClientOption{
		connect.WithReadMaxBytes(MaxResponseBytes),
		connect.WithSendMaxBytes(MaxRequestBytes),
		connect.WithCompressMinBytes(CompressMinBytes),
	}
	switch cfg.protocol {
	case Connect:
		// Balance and Statement have no side effects: send them as GET,
		// which caches and proxies understand.
		copts = append(copts, connect.WithHTTPGet())
	case GRPC:
		copts = append(copts, connect.WithGRPC())
	case GRPCWeb:
		copts = append(copts, connect.WithGRPCWeb())
	default:
		return nil, bank.Errorf(bank.InvalidArgument, "unknown protocol %v", cfg.protocol)
	}
	if cfg.Token != "" {
		copts = append(copts, connect.WithInterceptors(bearer(cfg.Token)))
	}
	scheme := "http://"
	if cfg.TLS != nil {
		scheme = "https://"
	}
	rpcOpts := copts
	if ic := traceInterceptor(cfg.Tracer); ic != nil {
		rpcOpts = append(rpcOpts[:len(rpcOpts):len(rpcOpts)], connect.WithInterceptors(ic...))
	}
	c.rpc = igbankv1connect.NewBankServiceClient(hc, scheme+addr, append(rpcOpts, cfg.opts...)...)
	c.health = grpchealth.NewClient(hc, scheme+addr, append(copts, cfg.opts...)...)
	return c, nil
}

// Health implements transport.HealthChecker with grpc.health.v1's Check of
// the bank service, in the client's protocol.
func (c *Client) Health(ctx context.Context) (transport.HealthStatus, error) {
	r, err := c.health.Check(ctx, &grpchealth.CheckRequest{Service: igbankv1connect.BankServiceName})
	if err != nil {
		return transport.HealthUnknown, fromError(ctx, err)
	}
	switch r.Status {
	case grpchealth.StatusServing:
		return transport.Serving, nil
	case grpchealth.StatusNotServing:
		return transport.NotServing, nil
	}
	return transport.HealthUnknown, nil
}

// bearer is the client interceptor that sends token in the Authorization
// header of every call.
func bearer(token string) connect.UnaryInterceptorFunc {
	value := []string{"Bearer " + token}
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header()["Authorization"] = value
			return next(ctx, req)
		}
	}
}

// maxH2Conns is the most HTTP/2 connections one of the client's
// transports opens to its server: room for 800 calls in flight at the
// server's 100 streams each.
const maxH2Conns = 8

// newTransport returns an HTTP client transport that speaks HTTP/2 to the
// server, one connection per host, tuned as README.md describes: without
// TLS with prior knowledge (h2c), with TLS (cfg.TLS) by ALPN "h2".
func newTransport(cfg clientConfig) *http.Transport {
	var protocols http.Protocols
	var tlsConfig *tls.Config
	if cfg.TLS != nil {
		protocols.SetHTTP2(true)
		tlsConfig = cfg.TLS.Clone()
		tlsConfig.NextProtos = []string{"h2"}
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	if cfg.Dialer == nil {
		cfg.Dialer = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	return &http.Transport{
		TLSClientConfig: tlsConfig,
		// The handshake gets as long as a dial (0, off: the call's
		// deadline alone).
		TLSHandshakeTimeout: max(cfg.DialTimeout, 0),
		Protocols:           &protocols,
		DialContext:         cfg.DialContext(),
		// Responses are never gzipped unless they are large (the server's
		// CompressMinBytes); leave decompression to connect.
		DisableCompression: true,
		IdleConnTimeout:    90 * time.Second,
		// Calls beyond the server's streams per connection (100) open
		// another connection, and without a bound each such call dialed
		// its own: 2,000 calls in flight opened hundreds at once, past
		// the server's connection limit, and the refused ones were
		// retried on new dials until the client stalled
		// (docs/benchmarks.md, "Latency against load"). Past
		// maxH2Conns, calls wait for a stream.
		MaxConnsPerHost: maxH2Conns,
		HTTP2: &http.HTTP2Config{
			// Ping a silent connection after 30 s; drop it if no answer
			// in 10 s.
			SendPingTimeout: 30 * time.Second,
			PingTimeout:     10 * time.Second,
			// Large fixed receive windows, as the gRPC client's.
			MaxReceiveBufferPerStream:     1 << 20,
			MaxReceiveBufferPerConnection: 8 << 20,
		},
	}
}

// roundRobin spreads requests over transports, each holding its own
// connection to the server. Requests go to Transport.RoundTrip directly:
// http.Client's redirect, cookie and timeout handling do nothing for RPCs
// (deadlines come from the request's context) and cost 6 allocations and
// about 700 bytes per call (README.md).
func roundRobin(ts []*http.Transport) connect.HTTPClient {
	if len(ts) == 1 {
		return roundTripper{ts[0]}
	}
	return &rrClient{transports: ts}
}

// roundTripper makes an http.RoundTripper a connect.HTTPClient.
type roundTripper struct{ http.RoundTripper }

func (r roundTripper) Do(req *http.Request) (*http.Response, error) { return r.RoundTrip(req) }

type rrClient struct {
	transports []*http.Transport
	next       atomic.Uint64
}

func (r *rrClient) Do(req *http.Request) (*http.Response, error) {
	return r.transports[r.next.Add(1)%uint64(len(r.transports))].RoundTrip(req)
}

// Close closes the client's idle connections. Calls in progress may still
// finish; later calls fail.
func (c *Client) Close() error {
	for _, t := range c.transports {
		t.CloseIdleConnections()
	}
	return nil
}

// Balance implements bank.Bank.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if err := pbbank.CheckUTF8(string(acc)); err != nil {
		return 0, err
	}
	r, err := c.rpc.Balance(ctx, &igbankv1.BalanceRequest{Account: string(acc)})
	if err != nil {
		return 0, fromError(ctx, err)
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
		return bank.Statement{}, fromError(ctx, err)
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
		return bank.DepositReceipt{}, fromError(ctx, err)
	}
	return pbbank.ReceiptFromProto(r), nil
}

// errorInfoType is the detail type connectError attaches.
var errorInfoType = string((&errdetails.ErrorInfo{}).ProtoReflect().Descriptor().FullName())

// retryInfoType is the detail that carries a retry-after hint.
var retryInfoType = string((&errdetails.RetryInfo{}).ProtoReflect().Descriptor().FullName())

// fromError restores the bank error from the error of a call made with
// ctx, as pbbank.FromStatus does for gRPC: the IGBank ErrorInfo decides;
// without it, the caller's ended ctx, then the Connect code (which is a
// gRPC code) by pbbank's table.
func fromError(ctx context.Context, err error) error {
	var ce *connect.Error
	// An error that did not come from the server over the wire is a failure
	// of the call itself: the caller's context, or a broken connection.
	// connect-go reports a connection reset by the peer as CodeCanceled and a
	// response cut short as CodeInternal; neither is what the server said,
	// so both are Unavailable (retryable) unless the caller's context ended.
	if !errors.As(err, &ce) || !connect.IsWireError(err) {
		return bank.FromContext(ctx, err)
	}
	var hint time.Duration
	for _, d := range ce.Details() {
		if d.Type() != retryInfoType {
			continue
		}
		var info errdetails.RetryInfo
		if proto.Unmarshal(d.Bytes(), &info) == nil {
			if h, ok := pbbank.HintFromRetryInfo(&info); ok {
				hint = h
				break
			}
		}
	}
	for _, d := range ce.Details() {
		if d.Type() != errorInfoType {
			continue
		}
		var info errdetails.ErrorInfo
		if proto.Unmarshal(d.Bytes(), &info) == nil {
			if c, ok := pbbank.CodeFromErrorInfo(&info); ok {
				return bank.WithRetryAfter(bank.FromCode(c, ce.Message()), hint)
			}
		}
	}
	if ctx.Err() != nil {
		return bank.FromContext(ctx, err)
	}
	c := pbbank.BankCode(codes.Code(ce.Code()))
	if c == bank.OK {
		c = bank.Internal
	}
	return &bank.Error{Code: c, Err: err}
}
