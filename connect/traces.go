package connectbank

import (
	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/transport"
)

// traceInterceptor is otelconnect's interceptor with tp, for the bank's
// handler and client in all three protocols: W3C trace context in the
// request headers (transport.Propagator, not the global one), no metrics
// (tracing alone is asked for), and the caller's trace continued
// (WithTrustRemote): otelconnect otherwise starts every server span as a
// new trace that only links to the caller's, unlike otelgrpc and otelhttp,
// and a trace would stop at the server. A nil tp is none.
func traceInterceptor(tp trace.TracerProvider) []connect.Interceptor {
	if tp == nil {
		return nil
	}
	i, err := otelconnect.NewInterceptor(
		otelconnect.WithTracerProvider(tp),
		otelconnect.WithPropagator(transport.Propagator),
		otelconnect.WithoutMetrics(),
		otelconnect.WithTrustRemote(),
	)
	if err != nil {
		// Only an invalid option is an error, and these are fixed.
		panic("connectbank: otelconnect: " + err.Error())
	}
	return []connect.Interceptor{i}
}
