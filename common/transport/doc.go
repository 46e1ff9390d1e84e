// Package transport names what every transport module offers and the one
// vocabulary their options share.
//
// Every transport module (raw-sockets, netrpc, grpc, connect, rest-json,
// thrift) has a Server that serves any bank.Bank on a net.Listener, a
// Client that is a bank.Bank, and one Descriptor of itself: its names and
// protocol variants, its default address, whether a load balancer must
// speak HTTP/2 to it, and its constructors. The list of descriptors lives
// in the transports module; the load generator, the cluster, the cmd/
// programs and the tests that run over every transport work with
// descriptors alone, so a caller cannot tell which transport it holds.
//
// # One vocabulary
//
// Every transport configures its server and its client with functional
// options over an unexported config (NewServer(b, opts...) and
// Dial(ctx, addr, opts...)). A setting that several transports have has
// the same name and shape in each, as in this table: its value lives in
// the ServerConfig or ClientConfig that the transport's config embeds, and
// its option is written once, here, as a generic function that each
// transport exports instantiated for its own option type
// (var WithMaxConns = transport.WithMaxConns[ServerOption]). The defaults
// are the transport's own, set in one function of its options.go
// (defaultServerConfig, defaultClientConfig) and named in each option's
// comment. For every setting of ServerConfig, ClientConfig and Timeouts,
// zero keeps the transport's default and a negative value turns the limit
// or timeout off.
//
//	setting                    option                               field                        transports
//	connection limit (server)  WithMaxConns(n int)                  ServerConfig.MaxConns        all six (1,024 by default; package admit)
//	timeouts (server)          WithTimeouts(transport.Timeouts)     ServerConfig.Timeouts        all six (Read, Write, Idle where the stack has them; FirstRequest in all six, 5 s)
//	per-call bound (server)    WithMaxCallTimeout(time.Duration)    ServerConfig.MaxCallTimeout  netrpc, thrift, rest-json
//	logger (server)            WithLogger(*slog.Logger)             ServerConfig.Logger          all six (keys: package logs)
//	client pool                WithConns(n int)                     ClientConfig.Conns           all but grpc (one multiplexed connection)
//	dial timeout (client)      WithDialTimeout(time.Duration)       ClientConfig.DialTimeout     all six
//	dialer (client)            WithDialer(func(ctx, net, addr))     ClientConfig.Dialer          all six
//	per-call timeout (client)  WithCallTimeout(time.Duration)       ClientConfig.CallTimeout     thrift (the others send the caller's deadline)
//	protocol variant           WithProtocol(p Protocol)             (transport's own)            connect (client), thrift (server; WithClientProtocol on its client)
//	TLS (server)               WithTLS(*tls.Config, tlsconf.Limits) ServerConfig.TLS, .Handshakes all six (a client CA in the config: mutual TLS)
//	bearer tokens (server)     WithTokens(*auth.Verifier)           ServerConfig.Tokens          all but thrift (Descriptor.Tokens)
//	browser origins (server)   WithCORSOrigins(origins ...string)   ServerConfig.CORSOrigins     connect, rest-json (Descriptor.CORS)
//	TLS (client)               WithClientTLS(*tls.Config)           ClientConfig.TLS             all six
//	bearer token (client)      WithToken(token string)              ClientConfig.Token           all but thrift
//	traces (server)            WithTracerProvider(trace.TracerProvider)       ServerConfig.Tracer  grpc, connect, rest-json (Descriptor.Traces; a span per call, the caller's W3C trace context continued)
//	traces (client)            WithClientTracerProvider(trace.TracerProvider) ClientConfig.Tracer  grpc, connect, rest-json (a span per attempt, W3C trace context sent)
//
// Tracer is nil by default, and then a transport adds no interceptor,
// handler or wrapper at all. Raw sockets, net/rpc and Thrift (binary and
// compact, no header protocol) have no per-call metadata to carry a trace
// context in: they ignore Tracer, and their servers' spans (package
// traces' decorators of the bank and the ledger, which the server
// programs add) start new traces.
//
// The connection limit and Timeouts.FirstRequest are enforced the same way
// on every server, by package admit (ServerConfig.Admission): past the
// limit an idle connection is reclaimed for a new one, or the new one is
// refused at once, never left waiting in the listen backlog.
//
// Transports keep the options only they have (raw-sockets'
// WithMaxCallsPerConn, gRPC's WithGRPCServerOptions, Connect's WithHTTP1,
// REST's WithMaxBodyBytes, Thrift's WithMaxFrameSize, ...), in the same
// style. Package names end in "bank" (rawbank, netrpcbank, grpcbank,
// connectbank, restbank, thriftbank) and differ from their folders, so
// every import of a transport package names it.
package transport
