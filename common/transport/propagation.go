package transport

import "go.opentelemetry.io/otel/propagation"

// Propagator is how the transports that carry per-call metadata (gRPC,
// Connect, REST) send and read a trace context when ServerConfig.Tracer or
// ClientConfig.Tracer is set: W3C Trace Context (the traceparent and
// tracestate headers) and W3C Baggage. It is passed to their
// instrumentation explicitly, so that whatever a program sets as the
// global propagator of package otel has no effect on the wire.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
