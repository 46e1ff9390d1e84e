// Package traces gives IGBank its OpenTelemetry traces: the tracer
// provider that exports spans over OTLP/HTTP when a program is told an
// endpoint (Setup; off, and free, otherwise), the decorators that open a
// span around every call of a bank.Bank and of a bank.Ledger (Bank,
// Ledger), and an OTLP/HTTP receiver that counts and discards what it is
// sent, for measuring the cost of tracing without a collector (Receiver).
//
// One logical call makes this tree of spans, one trace:
//
//	igbank.Bank/Deposit           client: the call, around the retry layers (Bank)
//	└─ igbank.v1.Bank/Deposit     client: one attempt (the transport's client span)
//	   └─ igbank.v1.Bank/Deposit  server: the transport's server span
//	      └─ igbank.Bank/Deposit  server: the bank service (Bank)
//	         └─ igbank.Ledger/Deposit  server: the ledger (Ledger)
//
// The transport spans (their names are the instrumentation's: the gRPC
// method for gRPC and Connect, the HTTP route for REST) exist where the
// transport carries per-call metadata, in which the client sends its
// span's W3C trace context (transport.Propagator) and the server
// continues it: gRPC, Connect (all three protocols) and REST. Raw
// sockets, net/rpc and Thrift (binary and compact; the header protocol,
// which has metadata, is not used) have no place for it: their servers
// still make the bank and ledger spans, in a new trace of their own.
//
// Spans carry the operation (rpc.method), the account and the month, the
// amount of a deposit, whether a receipt was a replay, and the bank error
// code of the result (igbank.code, and the span's status). They never
// carry an idempotency key, a token or an error's message (which may
// quote a key).
//
// Every cmd/server and cmd/client, "loadtest serve", "loadtest run" and
// cluster take -otlp URL (package cli): the OTLP/HTTP endpoint of a
// collector, such as http://127.0.0.1:4318 for an OpenTelemetry Collector
// or Jaeger, by default $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
// $OTEL_EXPORTER_OTLP_ENDPOINT. Without one, no tracer provider exists
// and nothing is traced.
package traces
