package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/loadtest/herd"
	"github.com/igbank/igbank/loadtest/registry"
)

func herdMain(args []string, stdout, stderr io.Writer) int {
	c := herd.DefaultConfig()
	fs := flag.NewFlagSet("herd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: loadtest herd [flags]

Backoff and jitter, shown. Starts one transport's server on loopback and makes
it answer Unavailable for an outage; N clients, each with its own connection
and its own retry layer (no retry budget, no breaker: either would hide the
herd), make one Balance each at the moment the outage begins and retry until
it ends. Run once per jitter mode, it prints the attempts, the peak attempts
per 10 ms bucket and the time until every client succeeded, and charts the
attempts per bucket: synchronised waves without jitter, a smoothed load with it.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Transport, "transport", c.Transport, "transport to run (known: "+strings.Join(registry.Names(false), ", ")+")")
	fs.IntVar(&c.Clients, "clients", c.Clients, "clients, each with its own connection and one call")
	fs.DurationVar(&c.Outage, "outage", c.Outage, "how long the server answers Unavailable")
	fs.DurationVar(&c.Bucket, "bucket", c.Bucket, "width of a bucket of the chart")
	modes := fs.String("jitter", "none,full,equal,decorrelated", "comma-separated jitter `modes` to run, in order")
	fs.IntVar(&c.Policy.MaxAttempts, "attempts", c.Policy.MaxAttempts, "most attempts per call")
	fs.DurationVar(&c.Policy.InitialBackoff, "backoff", c.Policy.InitialBackoff, "first retry's delay before jitter")
	fs.DurationVar(&c.Policy.MaxBackoff, "max-backoff", c.Policy.MaxBackoff, "cap of every delay")
	fs.DurationVar(&c.Timeout, "timeout", 0, "every call's deadline (0: 4×outage + 10s)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the jitter")
	fs.IntVar(&c.Capacity, "capacity", 0, "once back, the server answers at most this many calls per bucket and sheds the rest (0: no limit)")
	htmlOut := fs.String("html", "", "write the chart and table as a self-contained HTML page to `FILE`")
	jsonOut := fs.String("json", "", "write the figures and the buckets as JSON to `FILE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest herd: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	c.Modes = nil
	for _, m := range splitList(*modes) {
		j, err := resilience.ParseJitter(m)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest herd: -jitter: %v\n", err)
			return 2
		}
		c.Modes = append(c.Modes, j)
	}
	rep, err := herd.Run(context.Background(), c)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest herd: %v\n", err)
		return 1
	}
	herd.WriteText(stdout, rep)
	for _, x := range []struct {
		path string
		f    func(io.Writer, *herd.Report) error
	}{{*htmlOut, herd.WriteHTML}, {*jsonOut, herd.WriteJSON}} {
		if x.path == "" {
			continue
		}
		if err := writeOut(x.path, func(w io.Writer) error { return x.f(w, rep) }); err != nil {
			fmt.Fprintf(stderr, "loadtest herd: %v\n", err)
			return 1
		}
	}
	return 0
}
