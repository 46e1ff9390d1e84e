package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/report"
)

// outputs are the files a run or a report writes.
type outputs struct {
	json, csv, html, bench string
	quiet                  bool
	allowErrors            bool // loadtest run -allow-errors
}

func (o *outputs) register(fs *flag.FlagSet, withJSON bool) {
	if withJSON {
		fs.StringVar(&o.json, "json", "", "write everything measured, histograms and environment included, as JSON to `FILE`")
	}
	fs.StringVar(&o.csv, "csv", "", "write one row per transport and load point as CSV to `FILE`")
	fs.StringVar(&o.html, "html", "", "write a self-contained HTML report with charts to `FILE`")
	fs.StringVar(&o.bench, "bench", "", "write the rounds in Go benchmark format, for benchstat, to `FILE`")
	fs.BoolVar(&o.quiet, "quiet", false, "print no table or progress, only errors")
}

func (o *outputs) write(r *bench.Report) error {
	files := []struct {
		path string
		f    func(io.Writer, *bench.Report) error
	}{{o.json, report.WriteJSON}, {o.csv, report.WriteCSV}, {o.html, report.WriteHTML}, {o.bench, report.WriteBench}}
	for _, x := range files {
		if x.path == "" {
			continue
		}
		if err := writeOut(x.path, func(w io.Writer) error { return x.f(w, r) }); err != nil {
			return err
		}
	}
	return nil
}

// writeOut writes what write renders to the file at path, rendered
// first, so that a failure leaves no half-written file.
func writeOut(path string, write func(io.Writer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// parseRunFlags reads the flags of "loadtest run" into a Config.
func parseRunFlags(args []string, stderr io.Writer) (bench.Config, *outputs, error) {
	c := bench.DefaultConfig()
	o := &outputs{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loadtest run [flags]\n\nStarts each transport's server on loopback over the in-memory ledger, drives the\nsame workload through each in interleaved rounds, and prints them side by side.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	transports := fs.String("transports", strings.Join(c.Transports, ","), "comma-separated `list` of transports to run (known: "+strings.Join(registry.Names(false), ", ")+")")
	noRef := fs.Bool("no-reference", false, "leave out the bare TCP ping-pong reference")
	fs.BoolVar(&c.InProcess, "inprocess", false, "run the servers in this process (quicker; server and client costs not told apart)")
	fs.BoolVar(&c.Pin, "pin", false, "pin the servers to CPU 0 and the generator to the other CPUs (sched_setaffinity)")
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "interleaved rounds; figures are medians over them")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "warm-up of every measurement, not counted")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured time of every measurement")
	conc := fs.String("concurrency", joinInts(c.Concurrency), "callers (closed loop), or a comma-separated `list` for a sweep; with -rate, the most calls in flight")
	conns := fs.String("connections", "", "connections per transport, or a comma-separated `list` for a sweep: the size of its pool where it has one, else that many clients with the callers spread over them (0 or none: each transport's default)")
	rate := fs.String("rate", "", "open loop: fixed arrival `rate`s in calls/s (comma-separated for a sweep); latency counts from the intended send time")
	fs.DurationVar(&c.Timeout, "timeout", 0, "deadline of every call (0: none but the run's end; a deadline costs the generator allocations)")
	fs.BoolVar(&c.Resilience, "resilience", false, "wrap every client in the shared retry and circuit-breaker layers")
	mix := fs.String("mix", c.Workload.Mix.String(), "balance/statement/deposit weights")
	fs.IntVar(&c.Workload.Accounts, "accounts", c.Workload.Accounts, "accounts seeded and used")
	fs.Float64Var(&c.Workload.Zipf, "zipf", 0, "pick accounts with a Zipf skew of this exponent (> 1; 0: uniform)")
	fs.Uint64Var(&c.Workload.Seed, "seed", c.Workload.Seed, "random seed of the workload")
	month := fs.String("month", string(c.Workload.Month), "month of the statements, YYYY-MM")
	amount := fs.Int64("amount", int64(c.Workload.Amount), "cents of every deposit")
	fs.StringVar(&c.Store, "store", "", "ledger of the servers started: memory (default), sqlite:`PATH` or postgres://...; the servers of the run share it")
	fs.StringVar(&c.Addr, "addr", "", "drive a server already running at `HOST:PORT` (one transport, with -no-reference) instead of starting one")
	tls := fs.Bool("tls", false, "run every transport over TLS (a development PKI of the run's own; the TCP ping-pong stays plaintext)")
	authMode := fs.String("auth", "", "with TLS, authenticate and authorize every call as the teller: mtls (client certificates) or token (bearer tokens; Thrift: certificates)")
	security := fs.String("security", "", "security modes to measure, a comma-separated `list` for one table of their costs: plain, tls, mtls, token (overrides -tls and -auth)")
	network := fs.String("network", "", "network `profiles` beneath every server, comma-separated for a sweep: loopback (the default), lan (2 ms one-way, 100 Mbit/s), wan (30 ms, 20 Mbit/s), longhaul (200 ms, 1 Gbit/s), or custom:latency=D[:jitter=D][:up=RATE][:down=RATE] (RATE such as 10mbit)")
	rows := fs.String("statement-rows", "", "seed `N` transactions in the statement month of the accounts statements go to, comma-separated for a sweep (such as 0,10,100,1000,10000); statements then read pages of up to 1000")
	fs.IntVar(&c.MaxConns, "max-conns", 0, "every server's connection limit (0: each transport's default, 1024); raise it with -connections above that")
	fs.StringVar(&c.Metrics, "metrics", "", "serve the clients' Prometheus metrics at http://`ADDR`/metrics during the run (a loopback address), and start every server with metrics of its own")
	fs.StringVar(&c.OTLP, "otlp", traces.DefaultEndpoint(), "trace every call (not the reference): the OTLP/HTTP `URL` that the generator and the servers it starts export their spans to, such as http://127.0.0.1:4318, or \"discard\" for a receiver in the generator that counts and discards them (the cost of tracing, export included, without a collector); default $"+traces.EnvTracesEndpoint+" or $"+traces.EnvEndpoint+"; empty: no traces")
	allowErrors := fs.Bool("allow-errors", false, "exit 0 even when calls failed (by default a run with errors exits 1)")
	churn := fs.String("churn", "", "a new connection per call (dial, call, close) to show the cost of handshakes: on, off, or \"off,on\" for both")
	o.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if fs.NArg() > 0 {
		return c, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	c.Reference = !*noRef
	o.allowErrors = *allowErrors
	c.Networks = splitList(*network)
	if *rows != "" {
		if c.StatementRows, err = parseInts(*rows); err != nil {
			return c, nil, fmt.Errorf("-statement-rows: %w", err)
		}
	}
	c.Transports = splitList(*transports)
	if *conns != "" {
		var l []int
		if l, err = parseInts(*conns); err != nil {
			return c, nil, fmt.Errorf("-connections: %w", err)
		}
		c.Connections = l
	}
	if c.Concurrency, err = parseInts(*conc); err != nil {
		return c, nil, fmt.Errorf("-concurrency: %w", err)
	}
	if *rate != "" {
		if c.Rates, err = parseFloats(*rate); err != nil {
			return c, nil, fmt.Errorf("-rate: %w", err)
		}
	}
	if c.Workload.Mix, err = bench.ParseMix(*mix); err != nil {
		return c, nil, fmt.Errorf("-mix: %w", err)
	}
	c.Workload.Month = bank.Month(*month)
	c.Workload.Amount = bank.Money(*amount)
	switch {
	case *security != "":
		c.Security = splitList(*security)
	case *authMode != "":
		if *authMode != bench.SecurityMTLS && *authMode != bench.SecurityToken {
			return c, nil, fmt.Errorf("-auth %q: want mtls or token", *authMode)
		}
		c.Security = []string{*authMode}
	case *tls:
		c.Security = []string{bench.SecurityTLS}
	}
	for _, f := range splitList(*churn) {
		switch f {
		case "on", "true":
			c.Churn = append(c.Churn, true)
		case "off", "false":
			c.Churn = append(c.Churn, false)
		default:
			return c, nil, fmt.Errorf("-churn %q: want on, off or off,on", *churn)
		}
	}
	if _, err := c.Validate(); err != nil {
		return c, nil, flagWorded(err)
	}
	return c, o, nil
}

// flagWorded says an error of the engine that concerns several settings
// in the words of the flags that set them.
func flagWorded(err error) error {
	switch {
	case errors.Is(err, bench.ErrAddrAlone):
		return errors.New("-addr needs exactly one transport and -no-reference")
	case errors.Is(err, bench.ErrOpenLoopConcurrency):
		return errors.New("with -rate, give one -concurrency (the most calls in flight)")
	case errors.Is(err, bench.ErrPinCPUs):
		return errors.New("-pin needs at least 2 CPUs")
	}
	return err
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range splitList(s) {
		n, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runMain(args []string, stdout, stderr io.Writer) int {
	c, o, err := parseRunFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if !strings.Contains(err.Error(), "flag provided but not defined") && !strings.HasPrefix(err.Error(), "invalid value") {
			fmt.Fprintf(stderr, "loadtest run: %v\n", err)
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress bench.Progress
	live := !o.quiet && isTerminal(stdout)
	if live {
		progress = func(line string) { fmt.Fprintf(stdout, "\r\033[K%s", line) }
	}
	start := time.Now()
	rep, err := bench.Run(ctx, c, progress)
	if live {
		fmt.Fprint(stdout, "\r\033[K")
	}
	if rep == nil {
		fmt.Fprintf(stderr, "loadtest run: %v\n", flagWorded(err))
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest run: warning: %v\n", err)
	}
	if !o.quiet {
		report.WriteTable(stdout, rep)
		fmt.Fprintf(stdout, "(run took %v)\n", time.Since(start).Round(time.Second))
	}
	if err := o.write(rep); err != nil {
		fmt.Fprintf(stderr, "loadtest run: %v\n", err)
		return 1
	}
	if rep.Interrupted {
		fmt.Fprintln(stderr, "loadtest run: interrupted; what was measured is above and in the output files")
		return 130
	}
	if fs := report.Failures(rep); len(fs) > 0 {
		for _, f := range fs {
			fmt.Fprintf(stderr, "loadtest run: %s\n", f)
		}
		if !o.allowErrors {
			fmt.Fprintln(stderr, "loadtest run: calls failed (see above); -allow-errors exits 0 all the same")
			return 1
		}
	}
	return 0
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
