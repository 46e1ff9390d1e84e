package bench

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/traces"
)

// tracing is a run's traces (Config.OTLP): the endpoint the servers
// export to, the generator's own tracer provider, and the discarding
// receiver when the run has one.
type tracing struct {
	url   string // "": off
	tp    trace.TracerProvider
	flush func(context.Context) error
	recv  *traces.Receiver
}

// serviceName is the service.name of the generator's spans.
const serviceName = "igbank-loadtest"

// startTracing sets up the traces of Config.OTLP otlp: nothing for "",
// a Receiver in this process for OTLPDiscard.
func startTracing(otlp string) (*tracing, error) {
	t := &tracing{url: otlp}
	if otlp == OTLPDiscard {
		var err error
		if t.recv, err = traces.NewReceiver(); err != nil {
			return nil, err
		}
		t.url = t.recv.URL()
	}
	var err error
	if t.tp, t.flush, err = traces.Setup(context.Background(), t.url, serviceName); err != nil {
		if t.recv != nil {
			t.recv.Close()
		}
		return nil, err
	}
	return t, nil
}

// close flushes the generator's spans and stops the receiver, after the
// servers have flushed theirs (they are closed first), and reports what
// it received.
func (t *tracing) close(progress Progress) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := t.flush(ctx)
	if t.recv != nil {
		if progress != nil {
			progress(fmt.Sprintf("traces: %d spans in %d exports received and discarded", t.recv.Spans(), t.recv.Requests()))
		}
		t.recv.Close()
	}
	return err
}
