package traces

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// The environment variables of the OpenTelemetry specification that give
// the default endpoint: the traces endpoint, a whole URL, and the base
// endpoint of every signal, to which /v1/traces is appended.
const (
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
)

// tracesPath is where an OTLP/HTTP receiver takes traces.
const tracesPath = "/v1/traces"

// Usage is the help text of the -otlp flag of every program.
const Usage = "OTLP/HTTP endpoint to export traces to, e.g. http://127.0.0.1:4318 (a URL with no path gets " + tracesPath +
	"); default $" + EnvTracesEndpoint + " or $" + EnvEndpoint + "; empty: no traces"

// DefaultEndpoint is the endpoint the environment names, the default of
// -otlp: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else
// $OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended to its path, else
// "" (no traces).
func DefaultEndpoint() string {
	if e := os.Getenv(EnvTracesEndpoint); e != "" {
		return e
	}
	e := os.Getenv(EnvEndpoint)
	if e == "" {
		return ""
	}
	u, err := url.Parse(e)
	if err != nil {
		return e // Setup reports it
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + tracesPath
	return u.String()
}

// ExportURL is the URL spans are posted to for endpoint: endpoint itself,
// or, if it has no path, endpoint with /v1/traces (the OTLP/HTTP default
// path, which the exporter would not add to a URL given whole).
func ExportURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("OTLP endpoint %q: want an http:// or https:// URL such as http://127.0.0.1:4318", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = tracesPath
	}
	return u.String(), nil
}

// Setup returns the tracer provider of a program called service (the
// service.name of its spans) that exports its spans to the OTLP/HTTP
// endpoint (see ExportURL), and the function that flushes the spans not
// yet exported and stops it, to be called before the program exits.
// Spans are exported in batches, off the calls' path; every trace is
// sampled, unless a caller sent a trace context that says it is not.
//
// An empty endpoint is tracing off: Setup returns a nil provider, which
// every transport and decorator takes as "add nothing", and a shutdown
// that does nothing.
func Setup(ctx context.Context, endpoint, service string) (trace.TracerProvider, func(context.Context) error, error) {
	if endpoint == "" {
		return nil, func(context.Context) error { return nil }, nil
	}
	u, err := ExportURL(endpoint)
	if err != nil {
		return nil, nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u))
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))),
	)
	return tp, tp.Shutdown, nil
}
