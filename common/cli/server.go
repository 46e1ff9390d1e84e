// Package cli holds what every transport's cmd/server and cmd/client share:
// flags, signal handling, the ready line, argument parsing and printing, so
// that each reference program is only the lines that pick its transport.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/metrics"
	"github.com/igbank/igbank/common/shed"
	"github.com/igbank/igbank/common/store"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/common/transport"
)

// ServerFlags are the flags every server program accepts.
type ServerFlags struct {
	Addr     string
	Accounts int
	// Store is the ledger store spec (see package store): "memory" (the
	// default), "sqlite:PATH" or "postgres://...".
	Store string
	// Protocol selects the variant of a transport whose server speaks one
	// protocol (Descriptor.ServerProtocol); "" is the default variant.
	Protocol string
	// MaxConns is the connection limit (transport.WithMaxConns; 0: the
	// transport's default, 1,024).
	MaxConns int
	// Security: TLS, client certificates, bearer tokens.
	Security ServerSecurity
	// CORSOrigins is -cors-origins, the comma-separated origins whose
	// pages may call the server from a browser (transport.WithCORSOrigins),
	// registered for the transports that serve browsers (Descriptor.CORS).
	CORSOrigins string
	// Log is -log-format and -log-level: the logger of the ready and
	// shutdown lines and of the transport's server (transport.WithLogger).
	Log logs.Flags
	// Metrics is -metrics, the address at which to serve the server's
	// Prometheus metrics (package metrics) at /metrics; "": none.
	Metrics string
	// Traces is -otlp: the server's spans, exported (traces.go).
	Traces Traces
	// Directory is -register, -directory, -lease-ttl (directory.go).
	Directory Directory
	// Shed is -max-calls and -call-queue: admission control of calls
	// (package shed; MaxCalls 0, the default, is none).
	Shed ShedFlags
	// Clock is -clock-offset and -clock-drift (clock.go).
	Clock Clock
	// StoreOptions go to store.Open after the flags' own: the experiments'
	// server (cluster) sets them; no flag does.
	StoreOptions []store.Option
}

// ShedFlags are -max-calls and -call-queue, the admission control of
// calls (package shed) that every server program and "loadtest serve"
// take.
type ShedFlags struct {
	MaxCalls int `json:"max_calls,omitempty"`
	// Queue is -call-queue; -1 (the flag's default) is twice MaxCalls.
	Queue int `json:"call_queue,omitempty"`
}

// Register adds -max-calls and -call-queue to fs.
func (f *ShedFlags) Register(fs *flag.FlagSet) {
	fs.IntVar(&f.MaxCalls, "max-calls", 0, "calls in progress at once; more wait in a short queue or are refused at once as unavailable, with a retry-after hint (0: no limit)")
	fs.IntVar(&f.Queue, "call-queue", -1, "with -max-calls, calls that may wait for a slot, at most "+shed.DefaultMaxWait.String()+" each (-1: twice -max-calls)")
}

// Config returns the shed.Config the flags say, logging to logger.
func (f ShedFlags) Config(logger *slog.Logger) (shed.Config, error) {
	if f.MaxCalls < 0 || f.Queue < -1 {
		return shed.Config{}, fmt.Errorf("-max-calls %d -call-queue %d: want 0 or more (-call-queue -1: twice -max-calls)", f.MaxCalls, f.Queue)
	}
	q := f.Queue
	if q == -1 {
		q = 2 * f.MaxCalls
	}
	return shed.Config{MaxCalls: f.MaxCalls, Queue: q, Logger: logger}, nil
}

// Register adds the server flags of transport d to fs: the common ones,
// with d's default address for -addr, and -protocol where d's server
// speaks one protocol of several.
func (f *ServerFlags) Register(fs *flag.FlagSet, d transport.Descriptor) {
	fs.StringVar(&f.Addr, "addr", d.DefaultAddr, "address to listen on")
	fs.IntVar(&f.Accounts, "accounts", ledger.DefaultAccounts, "number of seeded accounts, numbered from 000000001")
	fs.StringVar(&f.Store, "store", store.Default, store.Usage)
	fs.IntVar(&f.MaxConns, "max-conns", 0, "connections served at once (0: the default, 1024); a new connection beyond it reclaims an idle one or is refused")
	if ps := d.Protocols(); d.ServerProtocol && ps != nil {
		fs.StringVar(&f.Protocol, "protocol", ps[0], "protocol: "+strings.Join(ps, " or ")+" (clients must use the same)")
	}
	f.Security.register(fs, d)
	f.Log.Register(fs)
	f.Shed.Register(fs)
	fs.StringVar(&f.Metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (a loopback address unless -insecure); empty: none")
	f.Traces.Register(fs)
	f.Directory.RegisterFlags(fs)
	f.Clock.Register(fs)
	if d.CORS {
		fs.StringVar(&f.CORSOrigins, "cors-origins", "", "comma-separated origins (scheme://host[:port]) whose pages may call the server from a browser; none: no CORS headers, cross-origin calls refused")
	}
}

// Bank returns the bank the flags describe. A durable store stays open
// until the process exits; use Open to be able to close it.
func (f *ServerFlags) Bank() (bank.Bank, error) {
	b, _, err := f.Open(context.Background())
	return b, err
}

// Open returns the bank the flags describe, over the store -store names,
// and the io.Closer that closes that store.
func (f *ServerFlags) Open(ctx context.Context) (bank.Bank, io.Closer, error) {
	return f.open(ctx, nil)
}

// open is Open with the ledger's calls traced with tp (nil: not traced).
func (f *ServerFlags) open(ctx context.Context, tp trace.TracerProvider, opts ...store.Option) (bank.Bank, io.Closer, error) {
	if f.Accounts < 1 || f.Accounts > 999_999_999 {
		return nil, nil, fmt.Errorf("-accounts %d is out of range", f.Accounts)
	}
	spec := f.Store
	if spec == "" {
		spec = store.Default
	}
	copts, err := f.Clock.StoreOptions()
	if err != nil {
		return nil, nil, err
	}
	l, c, err := store.Open(ctx, spec, f.Accounts, append(append(copts, opts...), f.StoreOptions...)...)
	if err != nil {
		return nil, nil, err
	}
	return bank.NewService(traces.Ledger(l, tp)), c, nil
}

// ServerConfig returns the shared server settings the flags give: TLS,
// client certificates, token key and the connection limit.
func (f *ServerFlags) ServerConfig() (transport.ServerConfig, error) {
	cfg, err := f.Security.Config(f.Addr)
	if err != nil {
		return cfg, err
	}
	if f.MaxConns < 0 {
		return cfg, fmt.Errorf("-max-conns %d: want 0 (the default) or more", f.MaxConns)
	}
	if err := f.Security.CheckMetrics(f.Metrics); err != nil {
		return cfg, err
	}
	cfg.MaxConns = f.MaxConns
	if cfg.CORSOrigins, err = ParseOrigins(f.CORSOrigins); err != nil {
		return cfg, fmt.Errorf("-cors-origins: %w", err)
	}
	return cfg, nil
}

// ParseOrigins parses a comma-separated list of browser origins, each a
// scheme (http or https), a host and an optional port, as a browser sends
// it in the Origin header: no path, no wildcard. "" is no origin.
func ParseOrigins(list string) ([]string, error) {
	var origins []string
	for o := range strings.SplitSeq(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(u.Host, "*") ||
			u.String() != u.Scheme+"://"+u.Host || o != strings.ToLower(o) {
			return nil, fmt.Errorf("%q is not an origin: want scheme://host[:port] in lower case, http or https, with no path and no wildcard", o)
		}
		origins = append(origins, o)
	}
	return origins, nil
}

// RunServer listens on the flags' address, serves transport d's server,
// logs one line when ready, and shuts down gracefully on SIGINT or
// SIGTERM, giving calls in progress up to 10 seconds. It logs to standard
// error in the format and from the level of the flags.
func RunServer(d transport.Descriptor, f *ServerFlags) (err error) {
	logger, err := f.Log.Logger(os.Stderr)
	if err != nil {
		return err
	}
	return runServer(d, f, logger)
}

func runServer(d transport.Descriptor, f *ServerFlags, logger *slog.Logger) error {
	// Signals are caught before the ready line: whoever waits for it may
	// stop the server at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Serve(ctx, d, f, logger)
}

// Serve is RunServer until ctx ends instead of until a signal, with the
// logger given: the ready line is an INFO record with the keys transport,
// addr (where it listens) and, with -metrics, metrics.
func Serve(ctx context.Context, d transport.Descriptor, f *ServerFlags, logger *slog.Logger) (err error) {
	v, ok := d.Variant(f.Protocol)
	if !ok {
		return fmt.Errorf("unknown -protocol %q (want %s)", f.Protocol, strings.Join(d.Protocols(), " or "))
	}
	name := d.Name
	cfg, err := f.ServerConfig()
	if err != nil {
		return err
	}
	cfg.Logger = logger
	sc, err := f.Shed.Config(logger)
	if err != nil {
		return err
	}
	tp, flush, err := f.tracedServer(name)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, flush()) }() // once the server has stopped
	cfg.Tracer = tp
	octx, ocancel := context.WithTimeout(ctx, time.Minute)
	b, closer, err := f.open(octx, tp, store.WithLogger(logger))
	ocancel()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closer.Close()) }()
	var l net.Listener
	l, err = net.Listen("tcp", f.Addr)
	if err != nil {
		return err
	}
	if f.Security.Authenticates() {
		b = auth.Authorize(b)
	}
	b = shed.New(b, sc)
	b = traces.Bank(b, tp)
	ready := []any{logs.Transport, name, logs.Addr, l.Addr().String()}
	if f.Metrics != "" {
		var w metrics.Wire
		e, m, err := metrics.ServeServer(f.Metrics, name, &w, logger)
		if err != nil {
			l.Close()
			return fmt.Errorf("-metrics: %w", err)
		}
		defer e.Close()
		b, l = m.Bank(name, b), w.Listener(l)
		ready = append(ready, logs.Metrics, e.Addr().String())
	}
	srv := v.NewServer(b, cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	leave, err := f.Directory.join(ctx, l.Addr().String())
	if err != nil {
		srv.Shutdown(context.Background())
		return errors.Join(err, <-done)
	}
	if f.Directory.Register != "" {
		ready = append(ready, logs.Registered, f.Directory.Register)
	}
	logger.Info(fmt.Sprintf("igbank %s server ready on %s", name, l.Addr()), append(ready,
		logs.Accounts, f.Accounts, logs.Store, logs.StoreSpec(f.Store), logs.Security, f.Security.Describe())...)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	logger.Info(fmt.Sprintf("igbank %s server shutting down", name), logs.Transport, name)
	if err := leave(); err != nil { // clients move on before the server goes
		logger.Warn(err.Error(), logs.Transport, name)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-done
}

// ServerMain is the whole main function of transport d's cmd/server. Its
// logger is also slog's default, so that what libraries log through
// package log or slog.Default (grpcbank.Logs routes gRPC's own there)
// comes out in the same format, from the same level.
func ServerMain(d transport.Descriptor) {
	var f ServerFlags
	f.Register(flag.CommandLine, d)
	flag.Parse()
	logger, err := f.Log.Logger(os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "igbank %s server: %v\n", d.Name, err)
		os.Exit(2)
	}
	slog.SetDefault(logger.With(logs.Transport, d.Name))
	if err := runServer(d, &f, logger); err != nil {
		logger.Error(fmt.Sprintf("igbank %s server: %v", d.Name, err), logs.Transport, d.Name, logs.Err, err)
		os.Exit(1)
	}
}
