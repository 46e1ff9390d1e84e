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
	"time"

	"github.com/igbank/igbank/loadtest/faults"
	"github.com/igbank/igbank/loadtest/registry"
)

// timeoutsMain is "loadtest timeouts": the timeout lab. It returns the
// exit status (0: the lab ran, 1: it could not, 2: a malformed command
// line, 130: interrupted).
func timeoutsMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("timeouts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: loadtest timeouts [flags]

How long is long enough? A timeout is a failure detector's guess. For each
attempt timeout, one transport's server runs behind a slow but healthy link
(Toxiproxy adds -latency ± -jitter to every packet, each way) and ignores
idempotency keys, and deposits go through the shared client layers (retries,
budget, breaker). Every retry is then spurious, every deposit applied twice a
duplicate, every breaker opening a healthy server declared down: the price of
a timeout too short. Then the same link goes silent for 40%% of a run (packets
held, nothing answered, no connection closed), and the lab times how long the
breaker takes to declare the outage: the price of a timeout too long. It
prints a row per timeout and charts both against it (-html).

Flags:
`)
		fs.PrintDefaults()
	}
	name := fs.String("transport", "raw", "transport to run (known: "+strings.Join(registry.Names(false), ", ")+")")
	list := fs.String("timeouts", "5ms,10ms,15ms,20ms,30ms,50ms,100ms,200ms", "comma-separated attempt `timeouts` to try, in order")
	latency := fs.Duration("latency", 10*time.Millisecond, "delay added to every packet, each way")
	jitter := fs.Duration("jitter", 5*time.Millisecond, "random variation of -latency, each way")
	deposits := fs.Int("deposits", 0, "deposits per run (0: the default, 150)")
	duration := fs.Duration("duration", 0, "span of each run (0: the default, 1.5s)")
	jsonOut := fs.String("json", "", "write the figures as JSON to `FILE`")
	htmlOut := fs.String("html", "", "write the charts and the table as a self-contained HTML page to `FILE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	tr, ok := registry.Lookup(*name)
	if !ok || *name == registry.ReferenceName {
		fmt.Fprintf(stderr, "loadtest timeouts: unknown transport %q\n", *name)
		return 2
	}
	c := faults.DefaultTimeoutConfig(tr)
	c.Latency, c.Jitter = *latency, *jitter
	if *deposits > 0 {
		c.Cell.Deposits = *deposits
	}
	if *duration > 0 {
		c.Cell.Duration = *duration
	}
	c.Timeouts = nil
	for _, s := range splitList(*list) {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "loadtest timeouts: -timeouts: %q is not a positive duration\n", s)
			return 2
		}
		c.Timeouts = append(c.Timeouts, d)
	}
	if fs.NArg() > 0 || len(c.Timeouts) == 0 || c.Latency < 0 || c.Jitter < 0 || c.Jitter > c.Latency {
		fmt.Fprintln(stderr, "loadtest timeouts: want timeouts, and 0 ≤ -jitter ≤ -latency")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := faults.RunTimeouts(ctx, c, func(s string) { fmt.Fprintln(stderr, s) })
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "loadtest timeouts: %v\n", err)
		return 1
	}
	faults.WriteTimeoutTable(stdout, rep)
	for _, x := range []struct {
		path  string
		write func(io.Writer, faults.TimeoutReport) error
	}{{*jsonOut, faults.WriteTimeoutJSON}, {*htmlOut, faults.WriteTimeoutHTML}} {
		if x.path == "" {
			continue
		}
		if err := writeOut(x.path, func(w io.Writer) error { return x.write(w, rep) }); err != nil {
			fmt.Fprintf(stderr, "loadtest timeouts: %v\n", err)
			return 1
		}
	}
	if ctx.Err() != nil {
		return 130
	}
	return 0
}
