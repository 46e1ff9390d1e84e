package cli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/common/transport"
)

// ExitUsage is the exit status for a malformed command line. A failed call
// exits with its bank error code (1 to 10), so scripts can tell them apart.
const ExitUsage = 64

const clientUsage = `usage:
  client [-addr HOST:PORT] [-timeout D] [-retry=false] balance ACCOUNT
  client [-addr HOST:PORT] [-timeout D] [-retry=false] statement ACCOUNT [YYYY-MM] [-page-size N]
  client [-addr HOST:PORT] [-timeout D] [-retry=false] deposit ACCOUNT CENTS [-key KEY]
  client [-addr HOST:PORT] [-timeout D] health

-addr may be a logical name, etcd:///igbank/TRANSPORT: the client then
calls every server registered under it in the directory (-directory, the
etcd endpoints), round robin, and follows the set as servers come and go.

Every command takes -otlp URL: the call is traced (a span around the
retry layers, the transport's spans of its attempts beneath) and its spans
exported to that OTLP/HTTP endpoint before the client exits.

The call goes through the shared client layers (common/resilience): a
transient failure is retried with backoff and jitter, within the -timeout,
behind a circuit breaker, and a deposit keeps its idempotency key on every
attempt. -retry=false makes one attempt.

statement prints the whole month (by default the current one, in UTC, as
the server dates transactions): it reads it page by page (-page-size
transactions a page, the server's maximum by default), all within the
-timeout.

health asks the server whether it is serving, in one attempt (no retry),
and prints SERVING or NOT_SERVING: exit status 0 when SERVING, 5
(unavailable) when NOT_SERVING (its graceful shutdown has begun), else the
error's code, so that a probe can run it.
`

// ClientOption adapts ClientMain and RunClient to a transport.
type ClientOption func(*clientOptions)

type clientOptions struct {
	flags []func(*flag.FlagSet)
	// name is the transport's, for the service.name of the client's
	// spans; tracer hands the client's tracer provider to its dial.
	name   string
	tracer func(trace.TracerProvider)
}

// WithClientFlags lets a transport add flags of its own to the client's
// command line, such as a protocol variant. The command line is parsed
// before dial is called, so dial may read them.
func WithClientFlags(register func(fs *flag.FlagSet)) ClientOption {
	return func(o *clientOptions) { o.flags = append(o.flags, register) }
}

// ClientMain is the whole main function of transport d's cmd/client. A
// transport with several protocols gets -protocol.
func ClientMain(d transport.Descriptor) {
	dial, opts := descriptorClient(d)
	os.Exit(RunClient(os.Args[1:], os.Stdout, os.Stderr, d.DefaultAddr, dial, opts...))
}

// descriptorClient returns the dial of the variant of d that -protocol
// names, and the option that adds -protocol where d has several.
func descriptorClient(d transport.Descriptor) (transport.DialFunc, []ClientOption) {
	v := d.Variants[0]
	var sec ClientSecurity
	var tp trace.TracerProvider
	var dir ClientDirectory
	dial := func(ctx context.Context, addr string) (transport.Client, error) {
		cfg, err := sec.Config()
		if err != nil {
			return nil, bank.Wrap(bank.InvalidArgument, err)
		}
		cfg.Tracer = tp
		return dir.Dial(ctx, d, v, addr, cfg)
	}
	security := []ClientOption{WithClientFlags(func(fs *flag.FlagSet) { sec.register(fs, d); dir.Register(fs) }), withTracer(d.Name, func(p trace.TracerProvider) { tp = p })}
	ps := d.Protocols()
	if ps == nil {
		return dial, security
	}
	flags := WithClientFlags(func(fs *flag.FlagSet) {
		fs.Func("protocol", "protocol: "+strings.Join(ps, ", ")+" (default "+ps[0]+")", func(s string) error {
			var ok bool
			if v, ok = d.Variant(s); !ok {
				return fmt.Errorf("unknown protocol %q (want %s)", s, strings.Join(ps, ", "))
			}
			return nil
		})
	})
	return dial, append(security, flags)
}

// RunClient runs one client command line and returns the exit status.
func RunClient(args []string, stdout, stderr io.Writer, defaultAddr string, dial transport.DialFunc, opts ...ClientOption) int {
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clientUsage); fs.PrintDefaults() }
	addr := fs.String("addr", defaultAddr, "server address")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline of the call")
	key := fs.String("key", "", "idempotency key of a deposit (default: a new random key)")
	retry := fs.Bool("retry", true, "retry transient failures through the shared retry and breaker layers; false: one attempt")
	pageSize := fs.Int("page-size", bank.MaxPageSize, "transactions per statement page (the server serves at most bank.MaxPageSize)")
	var tr Traces
	tr.Register(fs)
	for _, register := range o.flags {
		register(fs)
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	// Flags may also follow the arguments, as in "deposit ACC CENTS -key K";
	// a negative number is an argument, not a flag, so that the server gets
	// to reject it.
	var pos []string
	for rest := fs.Args(); len(rest) > 0; {
		if _, err := strconv.ParseInt(rest[0], 10, 64); err == nil || !strings.HasPrefix(rest[0], "-") {
			pos, rest = append(pos, rest[0]), rest[1:]
			continue
		}
		if err := fs.Parse(rest); err != nil {
			return ExitUsage
		}
		rest = fs.Args()
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "client: %s\n%s", msg, clientUsage)
		return ExitUsage
	}
	if len(pos) == 0 {
		return usage("no command")
	}
	tp, flush, err := tr.Setup(ServiceName(cmp.Or(o.name, "bank"), "client"))
	if err != nil {
		return usage(err.Error())
	}
	defer func() {
		if err := flush(); err != nil {
			fmt.Fprintf(stderr, "client: %v\n", err)
		}
	}()
	if o.tracer != nil {
		o.tracer(tp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	run := func(f func(bank.Bank) error) int {
		var err error
		// The call's span is outermost: its attempts, the transport's
		// spans, are its children.
		if *retry {
			b, closeClient := withLayers(dial, *addr, stderr)
			defer closeClient()
			err = f(traces.Bank(b, tp))
		} else {
			var c transport.Client
			if c, err = dial(ctx, *addr); err == nil {
				defer c.Close()
				err = f(traces.Bank(c, tp))
			}
		}
		if err != nil {
			code := bank.CodeOf(err)
			fmt.Fprintf(stderr, "error: %v\n", err)
			return int(code)
		}
		return 0
	}
	switch cmd, a := pos[0], pos[1:]; {
	case cmd == "health" && len(a) == 0:
		return probe(ctx, dial, *addr, stdout, stderr)
	case cmd == "balance" && len(a) == 1:
		return run(func(b bank.Bank) error {
			m, err := b.Balance(ctx, bank.AccountNo(a[0]))
			if err == nil {
				fmt.Fprintf(stdout, "account %s balance %s (%d cents)\n", a[0], m, int64(m))
			}
			return err
		})
	case cmd == "statement" && (len(a) == 1 || len(a) == 2):
		month := bank.MonthOf(time.Now())
		if len(a) == 2 {
			month = bank.Month(a[1])
		}
		return run(func(b bank.Bank) error {
			st, err := bank.ReadStatement(ctx, b, bank.StatementRequest{Account: bank.AccountNo(a[0]), Month: month, PageSize: *pageSize})
			if err == nil {
				PrintStatement(stdout, st)
			}
			return err
		})
	case cmd == "deposit" && len(a) == 2:
		cents, err := strconv.ParseInt(a[1], 10, 64)
		if err != nil {
			return usage(fmt.Sprintf("amount %q is not an integer number of cents", a[1]))
		}
		k := *key
		if k == "" {
			k = resilience.NewKey()
		}
		return run(func(b bank.Bank) error {
			r, err := b.Deposit(ctx, bank.DepositRequest{Account: bank.AccountNo(a[0]), Amount: bank.Money(cents), IdempotencyKey: k})
			if err == nil {
				fmt.Fprintf(stdout, "deposit %s to %s: transaction %d, balance %s, replayed %t, key %s\n",
					bank.Money(cents), a[0], r.TransactionID, r.Balance, r.Replayed, k)
			}
			return err
		})
	}
	return usage(fmt.Sprintf("bad command %q", pos))
}

// probe runs the health command: one dial, one health check.
func probe(ctx context.Context, dial transport.DialFunc, addr string, stdout, stderr io.Writer) int {
	c, err := dial(ctx, addr)
	var st transport.HealthStatus
	if err == nil {
		defer c.Close()
		var ok bool
		if st, ok, err = transport.Health(ctx, c); !ok {
			err = bank.Errorf(bank.Internal, "this transport's client has no health check")
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return int(bank.CodeOf(err))
	}
	fmt.Fprintln(stdout, st)
	if st != transport.Serving {
		return int(bank.Unavailable)
	}
	return 0
}

// withLayers returns the client of the server at addr inside the shared
// client layers, as the README teaches a caller to call: a client that
// dials on use (so that a server not reachable yet is a retryable failure
// of the call), wrapped by resilience.Wrap with its defaults, and the
// function that closes it. Each retry is reported on stderr.
func withLayers(dial transport.DialFunc, addr string, stderr io.Writer) (bank.Bank, func() error) {
	c := transport.Lazy(func(ctx context.Context) (transport.Client, error) { return dial(ctx, addr) })
	return resilience.Wrap(c, resilience.WithHooks(resilience.Hooks{
		Retry: func(op bank.Op, n int, delay time.Duration, err error) {
			fmt.Fprintf(stderr, "attempt %d of %s failed (%v); retrying in %v\n", n, op, err, delay.Round(time.Millisecond))
		},
	})), c.Close
}

// PrintStatement writes st as a small table.
func PrintStatement(w io.Writer, st bank.Statement) {
	fmt.Fprintf(w, "statement of %s for %s\n", st.Account, st.Month)
	fmt.Fprintf(w, "  opening balance %14s\n", st.Opening)
	for _, tx := range st.Transactions {
		fmt.Fprintf(w, "  %s  tx %-8d %14s  balance %14s  key %s\n",
			tx.Time.Format(time.RFC3339), tx.ID, tx.Amount, tx.BalanceAfter, tx.IdempotencyKey)
	}
	fmt.Fprintf(w, "  closing balance %14s\n", st.Closing)
}
