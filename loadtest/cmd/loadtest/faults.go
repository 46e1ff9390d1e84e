package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/faults"
	"github.com/igbank/igbank/loadtest/registry"
)

// faultsMain is "loadtest faults": it returns the exit status (0: every
// cell passed, 1: one failed, 2: a malformed command line, 130: interrupted).
func faultsMain(args []string, stdout, stderr io.Writer) int {
	c := faults.DefaultConfig()
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loadtest faults [flags]\n\nMakes partial failures happen on purpose between each transport's client and\nits server, on 127.0.0.1: network faults through an embedded Toxiproxy in front\nof a server in this process, crashes by SIGKILLing a server process of its own\non a SQLite file and restarting it. Drives deposits with idempotency keys\nthrough the shared client layers, then audits the ledger: every acknowledged\ndeposit applied exactly once, none twice, none invented, unknown outcomes\napplied at most once. With keys off (-idempotency=off: at-least-once) or\nwithout retries (-retry=false: at-most-once) a cell passes when it shows what\nthat guarantee predicts (duplicates where responses are lost; deposits left\nunacknowledged), and -delivery all runs the three side by side. Exit status\n0: every cell showed what its guarantee predicts; 1: one did not.\n\nScenarios:\n")
		for _, s := range faults.Scenarios {
			fmt.Fprintf(stderr, "\n  %s\n%s\n", s.Name, indentWrap(s.Help, "      ", 78))
		}
		fmt.Fprintf(stderr, "\nFlags:\n")
		fs.PrintDefaults()
	}
	scenario := fs.String("scenario", "all", "`name` of the scenario, or all (known: "+strings.Join(faults.ScenarioNames(), ", ")+")")
	transports := fs.String("transports", strings.Join(registry.Names(false), ","), "comma-separated `list` of transports")
	fs.IntVar(&c.Deposits, "deposits", c.Deposits, "logical deposits per scenario and transport")
	fs.IntVar(&c.Workers, "workers", c.Workers, "concurrent callers")
	fs.IntVar(&c.Accounts, "accounts", c.Accounts, "accounts the deposits go to")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "span the deposits are spread over; the faults happen inside it")
	fs.DurationVar(&c.CallTimeout, "call-timeout", c.CallTimeout, "deadline of each logical deposit, retries included")
	fs.DurationVar(&c.AttemptTimeout, "attempt-timeout", c.AttemptTimeout, "deadline of each attempt")
	idem := fs.String("idempotency", "on", "on, or off: the server ignores keys (the deposit-twice demonstration)")
	budget := fs.Bool("budget", true, "share a retry budget among the calls (false: every failed call retries up to its attempts)")
	breaker := fs.Bool("breaker", true, "put a circuit breaker in the client layers")
	retry := fs.Bool("retry", true, "retry failed attempts (false: one attempt per deposit, at-most-once delivery)")
	delivery := fs.String("delivery", "", "run every cell under each of these delivery guarantees, side by side: a comma-separated `list` of at-most-once (-retry=false), at-least-once (-idempotency=off), exactly-once, or all; overrides -retry and -idempotency")
	fs.BoolVar(&c.TLS, "tls", false, "run every cell over TLS (a development PKI of its own): the faults cut TLS sessions, every reconnection pays a handshake")
	jsonOut := fs.String("json", "", "write the matrix as JSON to `FILE`, with every call's timeline (\"loadtest report FILE\" renders it again)")
	htmlOut := fs.String("html", "", "write the matrix, the table and the outage timelines as a self-contained HTML page to `FILE`")
	quiet := fs.Bool("quiet", false, "print no table")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	c.NoBudget, c.NoBreaker, c.NoRetry = !*budget, !*breaker, !*retry
	ignoreKeys, err := parseIdempotency(*idem)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest faults: %v\n", err)
		return 2
	}
	c.IgnoreKeys = ignoreKeys
	configs := []faults.Config{c}
	if *delivery != "" {
		if configs, err = deliveries(c, *delivery); err != nil {
			fmt.Fprintf(stderr, "loadtest faults: %v\n", err)
			return 2
		}
	}
	var scenarios []faults.Scenario
	for _, n := range splitList(*scenario) {
		if n == "all" {
			scenarios = append(scenarios, faults.Scenarios...)
			continue
		}
		s, ok := faults.LookupScenario(n)
		if !ok {
			fmt.Fprintf(stderr, "loadtest faults: unknown scenario %q (known: %s)\n", n, strings.Join(faults.ScenarioNames(), ", "))
			return 2
		}
		scenarios = append(scenarios, s)
	}
	var trs []transport.Variant
	for _, n := range splitList(*transports) {
		t, ok := registry.Lookup(n)
		if !ok || n == registry.ReferenceName {
			fmt.Fprintf(stderr, "loadtest faults: unknown transport %q\n", n)
			return 2
		}
		trs = append(trs, t)
	}
	if len(scenarios) == 0 || len(trs) == 0 || c.Deposits < 1 || c.Workers < 1 || c.Accounts < 1 || c.Duration <= 0 || c.AttemptTimeout <= 0 || c.CallTimeout <= 0 {
		fmt.Fprintln(stderr, "loadtest faults: want a scenario, a transport, and positive counts and durations")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var starting func(faults.Scenario, transport.Variant)
	if !*quiet {
		starting = func(s faults.Scenario, t transport.Variant) { fmt.Fprintf(stderr, "%s over %s ...\n", s.Name, t.Name) }
	}
	var results []faults.Result
	for _, c := range configs {
		results = append(results, faults.RunAll(ctx, scenarios, trs, c, starting)...)
	}
	if !*quiet {
		faults.WriteTable(stdout, results)
	}
	if err := writeFaultFiles(results, *jsonOut, *htmlOut); err != nil {
		fmt.Fprintf(stderr, "loadtest faults: %v\n", err)
		return 1
	}
	if ctx.Err() != nil {
		return 130
	}
	for _, r := range results {
		if !r.Pass {
			return 1 // an outcome its delivery guarantee does not predict
		}
	}
	return 0
}

// deliveries returns c under each delivery guarantee of list
// (at-most-once, at-least-once, exactly-once, or all), in that order.
func deliveries(c faults.Config, list string) ([]faults.Config, error) {
	want := map[string]bool{}
	for _, d := range splitList(list) {
		switch d {
		case "all":
			want[faults.AtMostOnce], want[faults.AtLeastOnce], want[faults.ExactlyOnce] = true, true, true
		case faults.AtMostOnce, faults.AtLeastOnce, faults.ExactlyOnce:
			want[d] = true
		default:
			return nil, fmt.Errorf("unknown delivery guarantee %q (want at-most-once, at-least-once, exactly-once or all)", d)
		}
	}
	var cs []faults.Config
	for _, d := range []string{faults.AtMostOnce, faults.AtLeastOnce, faults.ExactlyOnce} {
		if !want[d] {
			continue
		}
		x := c
		x.NoRetry, x.IgnoreKeys = d == faults.AtMostOnce, d == faults.AtLeastOnce
		cs = append(cs, x)
	}
	if len(cs) == 0 {
		return nil, errors.New("-delivery names no guarantee")
	}
	return cs, nil
}

// writeFaultFiles writes the matrix as JSON to jsonPath and as HTML to
// htmlPath, each if set.
func writeFaultFiles(results []faults.Result, jsonPath, htmlPath string) error {
	for _, x := range []struct {
		path string
		f    func(io.Writer, []faults.Result) error
	}{{jsonPath, faults.WriteJSON}, {htmlPath, faults.WriteHTML}} {
		if x.path == "" {
			continue
		}
		if err := writeOut(x.path, func(w io.Writer) error { return x.f(w, results) }); err != nil {
			return err
		}
	}
	return nil
}

// indentWrap wraps s at width columns, each line indented.
func indentWrap(s, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(s) {
		if len(line)+1+len(w) > width && len(line) > len(indent) {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	b.WriteString(line)
	return b.String()
}
