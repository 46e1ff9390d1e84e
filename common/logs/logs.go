// Package logs is the one way IGBank's programs and servers log: log/slog,
// text by default and JSON by flag, with one vocabulary of keys.
//
// # The vocabulary
//
// Every log record of a server, a transport or a command uses these keys
// for these things, and no other key for them:
//
//	key        value
//	transport  the transport's name (Descriptor.Name: "grpc", "rest-json", ...)
//	addr       an address the process listens on
//	metrics    the address of the process's Prometheus metrics
//	peer       the remote address of a connection
//	op         a bank operation (bank.Op: "balance", "statement", "deposit")
//	method     a transport's own name of a call (a gRPC full method, an HTTP method)
//	path       an HTTP request path
//	code       a bank error code (bank.Code's String: "internal", ...)
//	err        an error, with its cause: what the client was not told
//	duration   how long something took (a time.Duration)
//	account    an account number (not a secret: it is in every request)
//	store      the ledger store spec, its password masked
//	accounts   the number of seeded accounts
//	security   what the server requires of callers (TLS, tokens), in words
//	replicas   the replicas of a cluster
//	panic      a recovered panic's value
//	stack      the stack of a recovered panic
//	reason     why a connection ended, in the peer's words
//	library    a library that wrote the record itself ("grpc-go")
//
// What is never logged: bearer tokens, private keys and the contents of
// key files (their paths may be), a store's password (masked as "xxxxx"),
// request bodies. Account numbers are logged: they travel in every
// request and are what an operator looks up. Idempotency keys are not
// secrets but are not logged either.
package logs

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// The keys of the vocabulary (see the package documentation).
const (
	Transport = "transport"
	Addr      = "addr"
	Metrics   = "metrics"
	Peer      = "peer"
	Op        = "op"
	Method    = "method"
	Path      = "path"
	Code      = "code"
	Err       = "err"
	Duration  = "duration"
	Account   = "account"
	Store     = "store"
	Accounts  = "accounts"
	Security  = "security"
	Replicas  = "replicas"
	Panic     = "panic"
	Stack     = "stack"
	Reason    = "reason"
	Library   = "library"
)

// Flags are -log-format and -log-level.
type Flags struct {
	// Format is "text" (the default) or "json".
	Format string `json:"format,omitempty"`
	// Level is "debug", "info" (the default), "warn" or "error".
	Level string `json:"level,omitempty"`
}

// Register adds -log-format and -log-level to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Format, "log-format", "text", "log format: text or json (one JSON object a line)")
	fs.StringVar(&f.Level, "log-level", "info", "least severe level logged: debug, info, warn or error")
}

// Logger returns the logger the flags describe, writing to w.
func (f Flags) Logger(w io.Writer) (*slog.Logger, error) { return New(w, f.Format, f.Level) }

// New returns a logger writing to w in format ("text" or "json"; "" is
// text) from level ("debug", "info", "warn" or "error"; "" is info).
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "", "info":
		lv = slog.LevelInfo
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

// Hidden returns b, logging to l every failure whose cause the servers
// keep from the client (bank.Detail sends an internal or unavailable
// error's message only, and nothing of an error that is not a bank
// error): the client gets the code and a generic text, the log gets the
// cause, under the keys op, account, code, err and duration (and
// transport: every transport's server wraps the bank it serves with it,
// with its logger already carrying the transport's name, so the cause is
// logged whichever transport carried the call). A nil l is
// slog.Default().
func Hidden(b bank.Bank, l *slog.Logger) bank.Bank {
	if l == nil {
		l = slog.Default()
	}
	return hidden{b, l}
}

type hidden struct {
	next bank.Bank
	log  *slog.Logger
}

// logged logs err if the client does not see its cause.
func (h hidden) logged(ctx context.Context, op bank.Op, acc bank.AccountNo, start time.Time, err error) error {
	if err == nil {
		return nil
	}
	c := bank.CodeOf(err)
	if c != bank.Internal && c != bank.Unavailable {
		return err
	}
	if be := (*bank.Error)(nil); errors.As(err, &be) && be.Err == nil {
		return err // nothing hidden: the client reads all there is
	}
	h.log.LogAttrs(ctx, slog.LevelError, "call failed; its cause is hidden from the client",
		slog.String(Op, op.String()), slog.String(Account, string(acc)), slog.String(Code, c.String()),
		slog.String(Err, err.Error()), slog.Duration(Duration, time.Since(start)))
	return err
}

// Balance implements bank.Bank.
func (h hidden) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	start := time.Now()
	m, err := h.next.Balance(ctx, acc)
	return m, h.logged(ctx, bank.OpBalance, acc, start, err)
}

// Statement implements bank.Bank.
func (h hidden) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	start := time.Now()
	s, err := h.next.Statement(ctx, req)
	return s, h.logged(ctx, bank.OpStatement, req.Account, start, err)
}

// Deposit implements bank.Bank.
func (h hidden) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	start := time.Now()
	r, err := h.next.Deposit(ctx, req)
	return r, h.logged(ctx, bank.OpDeposit, req.Account, start, err)
}

// StoreSpec is a ledger store spec (package store) as logged under the
// key store: "" is "memory", and a URL's password reads "xxxxx".
func StoreSpec(spec string) string {
	if spec == "" {
		return "memory"
	}
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return spec
}
