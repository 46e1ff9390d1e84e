package grpcbank

import (
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/proto/igbankv1"
)

// traceOptions are the options of otelgrpc's stats handlers with tp: W3C
// trace context in the calls' metadata (transport.Propagator, not the
// global one), no metrics (a no-op meter provider: tracing alone is
// asked for), and only the bank's calls traced, not health checks or
// reflection.
func traceOptions(tp trace.TracerProvider) []otelgrpc.Option {
	prefix := "/" + igbankv1.BankService_ServiceDesc.ServiceName + "/"
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(transport.Propagator),
		otelgrpc.WithMeterProvider(noop.NewMeterProvider()),
		otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool { return strings.HasPrefix(info.FullMethodName, prefix) }),
	}
}

// serverTraceOptions are the grpc.Server options of tracing with tp:
// none when tp is nil.
func serverTraceOptions(tp trace.TracerProvider) []grpc.ServerOption {
	if tp == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(traceOptions(tp)...))}
}

// clientTraceOptions are the dial options of tracing with tp: none when
// tp is nil.
func clientTraceOptions(tp trace.TracerProvider) []grpc.DialOption {
	if tp == nil {
		return nil
	}
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(traceOptions(tp)...))}
}
