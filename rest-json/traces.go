package restbank

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/transport"
)

// traceOptions are otelhttp's options with tp: W3C trace context in the
// request headers (transport.Propagator, not the global one), no metrics
// (tracing alone is asked for), and only the API's requests traced (under
// /v1/; not /healthz, /openapi.json or CORS preflights).
func traceOptions(tp trace.TracerProvider) []otelhttp.Option {
	return []otelhttp.Option{
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(transport.Propagator),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithFilter(func(r *http.Request) bool {
			return strings.HasPrefix(r.URL.Path, "/v1/") && r.Method != http.MethodOptions
		}),
	}
}

// tracedHandler is h inside otelhttp's handler with tp, which continues
// the caller's trace context and names its span for the route ("GET
// /v1/accounts/{acc}/balance"); h itself when tp is nil.
func tracedHandler(h http.Handler, tp trace.TracerProvider) http.Handler {
	if tp == nil {
		return h
	}
	return otelhttp.NewHandler(h, "igbank.rest", traceOptions(tp)...)
}

// tracedTransport is rt inside otelhttp's transport with tp, which sends
// each request's span context; rt itself when tp is nil.
func tracedTransport(rt http.RoundTripper, tp trace.TracerProvider) http.RoundTripper {
	if tp == nil {
		return rt
	}
	return otelhttp.NewTransport(rt, traceOptions(tp)...)
}
