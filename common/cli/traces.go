package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/traces"
)

// Traces is -otlp: where a program exports its spans (package traces).
type Traces struct {
	// OTLP is the OTLP/HTTP endpoint of a collector, such as
	// http://127.0.0.1:4318; "" is no traces. Its default is the
	// environment's (traces.DefaultEndpoint).
	OTLP string
}

// flushTimeout bounds the export of the spans still buffered when a
// program ends.
const flushTimeout = 5 * time.Second

// Register adds -otlp to fs.
func (t *Traces) Register(fs *flag.FlagSet) {
	fs.StringVar(&t.OTLP, "otlp", traces.DefaultEndpoint(), traces.Usage)
}

// Setup returns the tracer provider of a program called service that
// exports to t.OTLP (nil when it is "": tracing off), and the function
// that flushes its spans and stops it, within 5 s, to call before the
// program ends.
func (t Traces) Setup(service string) (trace.TracerProvider, func() error, error) {
	tp, shutdown, err := traces.Setup(context.Background(), t.OTLP, service)
	if err != nil {
		return nil, nil, fmt.Errorf("-otlp: %w", err)
	}
	return tp, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			return fmt.Errorf("flushing traces: %w", err)
		}
		return nil
	}, nil
}

// ServiceName is the service.name of the spans of transport name's
// server ("igbank-grpc-server") or client ("igbank-grpc-client").
func ServiceName(name, side string) string { return "igbank-" + name + "-" + side }

// tracedServer sets up f's tracing for transport name's server: the
// provider, in cfg.Tracer for the transport's own spans, and the
// function that flushes it once the server has stopped.
func (f *ServerFlags) tracedServer(name string) (trace.TracerProvider, func() error, error) {
	return f.Traces.Setup(ServiceName(name, "server"))
}

// withTracer makes RunClient hand the tracer provider of -otlp to set
// before it dials, for the transport called name (the service.name of
// the client's spans).
func withTracer(name string, set func(trace.TracerProvider)) ClientOption {
	return func(o *clientOptions) { o.name, o.tracer = name, set }
}
