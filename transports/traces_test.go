package transports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// TestTraces makes a deposit through every transport variant, over TLS
// with a bearer token where the transport carries one (else a client
// certificate), with a client and a server that each record their spans
// with a tracer provider of their own, as two processes would, and checks
// the span tree: on the client, the call's span (outside the retry
// layers) and beneath it the transport's span of the attempt; on the
// server, the bank's span and beneath it the ledger's. Where the transport
// carries trace context (Descriptor.Traces) the server's transport span
// must continue the client's trace, as the child of the attempt's span,
// and the bank's span be its child; elsewhere the server starts a trace
// of its own. No span may carry the idempotency key or the token.
func TestTraces(t *testing.T) {
	p := banktest.NewPKI(t)
	for _, d := range transports.All {
		for _, v := range d.Variants {
			t.Run(v.Name, func(t *testing.T) {
				srvRec, cliRec := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
				srvTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(srvRec))
				cliTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(cliRec))

				// The server as cli.runServer builds it.
				scfg := transport.ServerConfig{TLS: p.ServerTLS(t, !d.Tokens), Tracer: srvTP}
				ccfg := transport.ClientConfig{TLS: p.ClientTLS(t, "teller"), Tracer: cliTP}
				if d.Tokens {
					scfg.Tokens = p.Verifier(t)
					ccfg.Token = p.Token(t, "teller", time.Hour)
				}
				svc := bank.NewService(traces.Ledger(ledger.NewMemory(banktest.Accounts), srvTP))
				addr := banktest.Serve(t, v.NewServer(traces.Bank(auth.Authorize(svc), srvTP), scfg))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c, err := v.Dial(ctx, addr, ccfg)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				// The client as cli.RunClient builds it.
				b := traces.Bank(resilience.Wrap(c), cliTP)

				const key = "trace-key-7f3a9c"
				if _, err := b.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(4), Amount: 125, IdempotencyKey: key}); err != nil {
					t.Fatal(err)
				}
				// A server may end its transport span after the response
				// has reached the client.
				want := 2 // bank, ledger
				if d.Traces {
					want++
				}
				for deadline := time.Now().Add(5 * time.Second); len(srvRec.Ended()) < want && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				cliSpans, srvSpans := cliRec.Ended(), srvRec.Ended()
				for _, s := range append(cliSpans, srvSpans...) {
					for _, a := range s.Attributes() {
						if v := a.Value.Emit(); strings.Contains(v, key) || ccfg.Token != "" && strings.Contains(v, ccfg.Token) {
							t.Errorf("span %s: attribute %s carries the idempotency key or the token: %q", s.Name(), a.Key, v)
						}
					}
				}

				t.Logf("client spans %v, server spans %v", spanNames(cliSpans), spanNames(srvSpans))
				call := only(t, "client", cliSpans, func(s sdktrace.ReadOnlySpan) bool { return s.Name() == traces.DepositSpan })
				bankSpan := only(t, "server", srvSpans, func(s sdktrace.ReadOnlySpan) bool { return s.Name() == traces.DepositSpan })
				ledgerSpan := only(t, "server", srvSpans, func(s sdktrace.ReadOnlySpan) bool { return s.Name() == traces.LedgerDepositSpan })
				if call.Parent().IsValid() {
					t.Errorf("the client's call span has a parent %v; want a root", call.Parent())
				}
				if ledgerSpan.Parent().SpanID() != bankSpan.SpanContext().SpanID() {
					t.Errorf("the ledger's span is not the child of the bank's")
				}
				if !d.Traces {
					if len(cliSpans) != 1 {
						t.Errorf("client spans %v: want the call's alone, on a transport without trace context", spanNames(cliSpans))
					}
					if bankSpan.SpanContext().TraceID() == call.SpanContext().TraceID() || bankSpan.Parent().IsValid() {
						t.Errorf("the server's bank span continues the client's trace on a transport without metadata")
					}
					return
				}
				attempt := only(t, "client", cliSpans, func(s sdktrace.ReadOnlySpan) bool { return s.SpanKind() == trace.SpanKindClient })
				if attempt.Parent().SpanID() != call.SpanContext().SpanID() {
					t.Errorf("the attempt's span %q is not the child of the call's", attempt.Name())
				}
				srvSpan := only(t, "server", srvSpans, func(s sdktrace.ReadOnlySpan) bool { return s.SpanKind() == trace.SpanKindServer })
				if got, want := srvSpan.SpanContext().TraceID(), call.SpanContext().TraceID(); got != want {
					t.Fatalf("the server's span %q is in trace %v, the client's call in %v: trace context not carried", srvSpan.Name(), got, want)
				}
				if !srvSpan.Parent().IsRemote() || srvSpan.Parent().SpanID() != attempt.SpanContext().SpanID() {
					t.Errorf("the server's span %q has parent %v; want the client's attempt %v", srvSpan.Name(), srvSpan.Parent().SpanID(), attempt.SpanContext().SpanID())
				}
				if bankSpan.Parent().SpanID() != srvSpan.SpanContext().SpanID() {
					t.Errorf("the server's bank span is not the child of its transport span %q", srvSpan.Name())
				}
			})
		}
	}
}

// only returns the one span of spans that match says is the one, and
// fails the test if there is not exactly one.
func only(t *testing.T, side string, spans []sdktrace.ReadOnlySpan, match func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if match(s) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s spans %v: %d match, want 1", side, spanNames(spans), len(found))
	}
	return found[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name()+"("+s.SpanKind().String()+")")
	}
	return n
}
