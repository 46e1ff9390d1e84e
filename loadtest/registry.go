package loadtest

import (
	"context"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
	grpcbank "github.com/igbank/igbank/grpc"
	netrpcbank "github.com/igbank/igbank/netrpc"
	rawbank "github.com/igbank/igbank/raw-sockets"
	restbank "github.com/igbank/igbank/rest-json"
	thriftbank "github.com/igbank/igbank/thrift"
)

// Transport is one entry of the registry: a name and the two factories
// every transport module offers.
type Transport struct {
	Name      string
	NewServer transport.NewServerFunc
	Dial      transport.DialFunc
	// DialConns, if not nil, makes a client that spreads its calls over n
	// connections: how -connections reaches a transport with its own pool.
	// Without it, -connections n opens n clients.
	DialConns func(n int) transport.DialFunc
}

// Transports is the registry: every transport the load generator drives,
// one line each, in the order the table lists them before ranking. Adding
// a transport is one module and one line here.
var Transports = []Transport{
	{Name: "raw", NewServer: server(rawbank.NewServer), Dial: dialer(rawbank.Dial), DialConns: pooled(rawbank.Dial, rawbank.WithConns)},
	{Name: "netrpc", NewServer: server(netrpcbank.NewServer), Dial: dialer(netrpcbank.Dial), DialConns: pooled(netrpcbank.Dial, netrpcbank.WithPoolSize)},
	{Name: "grpc", NewServer: server(grpcbank.NewServer), Dial: dialer(grpcbank.Dial)},
	{Name: "connect", NewServer: server(connectbank.NewServer), Dial: dialer(connectbank.Dial), DialConns: pooled(connectbank.Dial, connectbank.WithConns)},
	{Name: "connect-grpc", NewServer: server(connectbank.NewServer), Dial: dialer(connectbank.Dial, connectGRPC), DialConns: pooled(connectbank.Dial, connectbank.WithConns, connectGRPC)},
	{Name: "connect-grpcweb", NewServer: server(connectbank.NewServer), Dial: dialer(connectbank.Dial, connectGRPCWeb), DialConns: pooled(connectbank.Dial, connectbank.WithConns, connectGRPCWeb)},
	{Name: "rest", NewServer: server(restbank.NewServer), Dial: dialer(restbank.Dial), DialConns: restPool},
	{Name: "thrift", NewServer: server(thriftbank.NewServer), Dial: dialer(thriftbank.Dial), DialConns: pooled(thriftbank.Dial, thriftbank.WithPoolSize)},
	{Name: "thrift-compact", NewServer: server(thriftbank.NewServer, thriftCompactServer), Dial: dialer(thriftbank.Dial, thriftCompactClient), DialConns: pooled(thriftbank.Dial, thriftbank.WithPoolSize, thriftCompactClient)},
}

var (
	connectGRPC                                 = connectbank.WithProtocol(connectbank.GRPC)
	connectGRPCWeb                              = connectbank.WithProtocol(connectbank.GRPCWeb)
	thriftCompactServer thriftbank.ServerOption = thriftbank.WithProtocol(thriftbank.Compact)
	thriftCompactClient thriftbank.ClientOption = thriftbank.WithProtocol(thriftbank.Compact)
)

// Registry returns a copy of Transports, for callers (tests, tools) that
// iterate every registered transport.
func Registry() []Transport { return append([]Transport(nil), Transports...) }

// Lookup returns the registered transport called name, the reference
// (ReferenceName) included.
func Lookup(name string) (Transport, bool) {
	if name == ReferenceName {
		return Reference, true
	}
	for _, t := range Transports {
		if t.Name == name {
			return t, true
		}
	}
	return Transport{}, false
}

// server adapts a transport module's NewServer, with options, to a
// transport.NewServerFunc.
func server[S transport.Server, O any](f func(bank.Bank, ...O) S, opts ...O) transport.NewServerFunc {
	return func(b bank.Bank) transport.Server { return f(b, opts...) }
}

// dialer adapts a transport module's Dial, with options, to a
// transport.DialFunc, taking care that a failed dial returns a nil
// interface rather than a typed nil.
func dialer[C transport.Client, O any](f func(context.Context, string, ...O) (C, error), opts ...O) transport.DialFunc {
	return func(ctx context.Context, addr string) (transport.Client, error) {
		c, err := f(ctx, addr, opts...)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// restPool is the REST client with at most n keep-alive connections.
func restPool(n int) transport.DialFunc {
	return func(ctx context.Context, addr string) (transport.Client, error) {
		t := restbank.NewTransport()
		t.MaxConnsPerHost, t.MaxIdleConnsPerHost = n, n
		c, err := restbank.Dial(ctx, addr, restbank.WithRoundTripper(t))
		if err != nil {
			return nil, err
		}
		return closing{c, t.CloseIdleConnections}, nil
	}
}

// closing is a client that also runs f when closed.
type closing struct {
	transport.Client
	f func()
}

func (c closing) Close() error {
	err := c.Client.Close()
	c.f()
	return err
}

// pooled adapts a transport module's Dial and its pool-size option to a
// DialConns.
func pooled[C transport.Client, O any](f func(context.Context, string, ...O) (C, error), size func(int) O, opts ...O) func(int) transport.DialFunc {
	return func(n int) transport.DialFunc {
		return dialer(f, append(append([]O(nil), opts...), size(n))...)
	}
}
