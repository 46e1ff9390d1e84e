package traces

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/bank"
)

// ScopeName is the instrumentation scope of the spans of Bank and Ledger.
const ScopeName = "github.com/igbank/igbank/common/traces"

// The names of the spans of Bank and Ledger.
const (
	BalanceSpan   = "igbank.Bank/Balance"
	StatementSpan = "igbank.Bank/Statement"
	DepositSpan   = "igbank.Bank/Deposit"

	LedgerBalanceSpan   = "igbank.Ledger/Balance"
	LedgerStatementSpan = "igbank.Ledger/Statement"
	LedgerDepositSpan   = "igbank.Ledger/Deposit"
)

// The attributes of the spans of Bank and Ledger, besides rpc.method.
const (
	AccountKey  = attribute.Key("igbank.account")
	MonthKey    = attribute.Key("igbank.month")
	AmountKey   = attribute.Key("igbank.amount_cents")
	ReplayedKey = attribute.Key("igbank.replayed")
	// CodeKey is the bank error code of the result ("ok", "not_found",
	// ...): bank.Code's wire name.
	CodeKey = attribute.Key("igbank.code")
)

// rpcMethod is the semantic conventions' rpc.method.
const rpcMethod = attribute.Key("rpc.method")

// Bank returns b with a span around each of its calls, from tp: on a
// server, inside the transport's server span, the bank service's span; on
// a client, outside the retry layers, the logical call's span, whose
// children are the transport's spans of its attempts. A nil tp returns b
// itself.
func Bank(b bank.Bank, tp trace.TracerProvider) bank.Bank {
	if tp == nil {
		return b
	}
	return tracedBank{b: b, t: tp.Tracer(ScopeName)}
}

type tracedBank struct {
	b bank.Bank
	t trace.Tracer
}

func (t tracedBank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	ctx, span := start(ctx, t.t, BalanceSpan, "Balance", account(acc))
	m, err := t.b.Balance(ctx, acc)
	end(span, err)
	return m, err
}

func (t tracedBank) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	ctx, span := start(ctx, t.t, StatementSpan, "Statement", account(req.Account), month(req.Month))
	st, err := t.b.Statement(ctx, req)
	end(span, err)
	return st, err
}

func (t tracedBank) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	// Never the idempotency key: it is what lets a deposit be replayed.
	ctx, span := start(ctx, t.t, DepositSpan, "Deposit", account(req.Account), AmountKey.Int64(int64(req.Amount)))
	r, err := t.b.Deposit(ctx, req)
	if err == nil {
		span.SetAttributes(ReplayedKey.Bool(r.Replayed))
	}
	end(span, err)
	return r, err
}

// Ledger returns l with a span around each of its calls, from tp: the
// bottom of a server's span tree. A nil tp returns l itself.
func Ledger(l bank.Ledger, tp trace.TracerProvider) bank.Ledger {
	if tp == nil {
		return l
	}
	return tracedLedger{l: l, t: tp.Tracer(ScopeName)}
}

type tracedLedger struct {
	l bank.Ledger
	t trace.Tracer
}

func (t tracedLedger) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	ctx, span := start(ctx, t.t, LedgerBalanceSpan, "Balance", account(acc))
	m, err := t.l.Balance(ctx, acc)
	end(span, err)
	return m, err
}

func (t tracedLedger) Statement(ctx context.Context, q bank.StatementQuery) (bank.Statement, error) {
	ctx, span := start(ctx, t.t, LedgerStatementSpan, "Statement", account(q.Account), month(q.Month))
	st, err := t.l.Statement(ctx, q)
	end(span, err)
	return st, err
}

func (t tracedLedger) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	ctx, span := start(ctx, t.t, LedgerDepositSpan, "Deposit", account(req.Account), AmountKey.Int64(int64(req.Amount)))
	r, err := t.l.Deposit(ctx, req)
	if err == nil {
		span.SetAttributes(ReplayedKey.Bool(r.Replayed))
	}
	end(span, err)
	return r, err
}

// account is the attribute of acc, if it is an account number: what a
// caller sends is recorded only once it is known to be short and plain.
func account(acc bank.AccountNo) attribute.KeyValue {
	if bank.ValidateAccount(acc) != nil {
		return AccountKey.String("invalid")
	}
	return AccountKey.String(string(acc))
}

// month is the attribute of m, if it is a month (see account).
func month(m bank.Month) attribute.KeyValue {
	if bank.ValidateMonth(m) != nil {
		return MonthKey.String("invalid")
	}
	return MonthKey.String(string(m))
}

func start(ctx context.Context, t trace.Tracer, name, method string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.Start(ctx, name, trace.WithAttributes(append(attrs, rpcMethod.String(method))...))
}

// end records the result's code and ends span. The status description is
// the code, not the error's message: a message may quote a key.
func end(span trace.Span, err error) {
	c := bank.CodeOf(err)
	span.SetAttributes(CodeKey.String(c.String()))
	if err != nil {
		span.SetStatus(codes.Error, c.String())
	}
	span.End()
}
