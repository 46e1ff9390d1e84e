package transport

import (
	"context"

	"github.com/igbank/igbank/common/bank"
)

// Descriptor is what a transport module says of itself: everything the
// load generator, the cluster, the cmd/ programs and the cross-transport
// tests need to run it without knowing it. Each transport module exports
// one, named Transport.
type Descriptor struct {
	// Name is the transport's name in commands, logs and reports ("grpc").
	Name string
	// Module is the import path of the transport's module; its programs
	// are Module+"/cmd/server" and Module+"/cmd/client".
	Module string
	// DefaultAddr is where its cmd/server listens by default.
	DefaultAddr string
	// HTTP2 reports whether its servers speak HTTP/2, so that a load
	// balancer in front of them must speak HTTP/2 on both sides.
	HTTP2 bool
	// ServerProtocol reports whether a server speaks only the protocol it
	// was made for, so server and client must be given the same variant
	// (Thrift). Otherwise one server speaks the protocols of every variant
	// and only clients choose (Connect).
	ServerProtocol bool
	// Tokens reports whether the transport carries a bearer token with
	// each call (ClientConfig.Token, ServerConfig.Tokens); without, its
	// callers authenticate by client certificate only.
	Tokens bool
	// CORS reports whether its servers serve browsers and answer CORS
	// requests from the origins of ServerConfig.CORSOrigins (Connect,
	// REST); the others ignore that setting.
	CORS bool
	// Traces reports whether the transport carries a W3C trace context
	// with each call, so that with ServerConfig.Tracer and
	// ClientConfig.Tracer set a server's spans continue its caller's
	// trace (gRPC, Connect, REST); the others have no per-call metadata
	// and ignore both settings.
	Traces bool
	// Variants are the transport's protocol variants; the first is the
	// default and has the transport's Name. At least one.
	Variants []Variant
}

// Variant is one protocol of a transport: a name the load generator runs
// and reports, and the constructors of its server and client.
type Variant struct {
	// Name is "connect-grpc" for the protocol "grpc" of "connect"; the
	// default variant has the transport's name.
	Name string
	// Protocol is the value of the -protocol flag of the transport's cmd/
	// programs that selects this variant ("grpc"), or "" where the
	// transport has one protocol.
	Protocol string
	// Pooled reports whether Dial spreads a client's calls over
	// ClientConfig.Conns connections. Without a pool, n connections take
	// n clients.
	Pooled bool
	// NewServer makes a server of b with the shared settings cfg over the
	// transport's defaults.
	NewServer func(b bank.Bank, cfg ServerConfig) Server
	// Dial makes a client of the server at addr with the shared settings
	// cfg over the transport's defaults.
	Dial func(ctx context.Context, addr string, cfg ClientConfig) (Client, error)
}

// ServerFunc returns v's NewServer with cfg bound, for the conformance
// suite and other code that takes a NewServerFunc.
func (v Variant) ServerFunc(cfg ServerConfig) NewServerFunc {
	return func(b bank.Bank) Server { return v.NewServer(b, cfg) }
}

// DialFunc returns v's Dial with cfg bound.
func (v Variant) DialFunc(cfg ClientConfig) DialFunc {
	return func(ctx context.Context, addr string) (Client, error) { return v.Dial(ctx, addr, cfg) }
}

// Variant returns the variant called name, which may also be given as its
// Protocol ("compact" for "thrift-compact"); "" is the default variant.
func (d Descriptor) Variant(name string) (Variant, bool) {
	if name == "" {
		return d.Variants[0], true
	}
	for _, v := range d.Variants {
		if v.Name == name || (v.Protocol != "" && v.Protocol == name) {
			return v, true
		}
	}
	return Variant{}, false
}

// Protocols lists the Protocol of each variant, the default first; nil
// for a transport with one protocol.
func (d Descriptor) Protocols() []string {
	if len(d.Variants) < 2 {
		return nil
	}
	ps := make([]string, len(d.Variants))
	for i, v := range d.Variants {
		ps[i] = v.Protocol
	}
	return ps
}

// ServerWith adapts a transport's NewServer, with options, to a
// NewServerFunc.
func ServerWith[S Server, O any](newServer func(bank.Bank, ...O) S, opts ...O) NewServerFunc {
	return func(b bank.Bank) Server { return newServer(b, opts...) }
}

// DialWith adapts a transport's Dial, with options, to a DialFunc, taking
// care that a failed dial returns a nil Client rather than a typed nil.
func DialWith[C Client, O any](dial func(context.Context, string, ...O) (C, error), opts ...O) DialFunc {
	return func(ctx context.Context, addr string) (Client, error) {
		c, err := dial(ctx, addr, opts...)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// ServerFor makes a Variant's NewServer from a transport's NewServer and
// the options of the variant: the shared settings it is given go into the
// ServerConfig that the transport's config embeds, after opts.
func ServerFor[S Server, O ~func(P), P serverConfigured](newServer func(bank.Bank, ...O) S, opts ...O) func(bank.Bank, ServerConfig) Server {
	return func(b bank.Bank, cfg ServerConfig) Server {
		return newServer(b, append(opts[:len(opts):len(opts)], serverOption[O](cfg))...)
	}
}

// DialerFor makes a Variant's Dial from a transport's Dial and the options
// of the variant, as ServerFor does for servers.
func DialerFor[C Client, O ~func(P), P clientConfigured](dial func(context.Context, string, ...O) (C, error), opts ...O) func(context.Context, string, ClientConfig) (Client, error) {
	return func(ctx context.Context, addr string, cfg ClientConfig) (Client, error) {
		return DialWith(dial, append(opts[:len(opts):len(opts)], clientOption[O](cfg))...)(ctx, addr)
	}
}
