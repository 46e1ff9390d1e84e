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

	"github.com/igbank/igbank/loadtest/overload"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

func overloadMain(args []string, stdout, stderr io.Writer) int {
	c := overload.DefaultConfig()
	fs := flag.NewFlagSet("overload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: loadtest overload [flags]

Load shedding, shown. Starts each transport's server in its own process with
a backend of fixed capacity (-backend: every call holds one of SLOTS workers
for TIME, and the backend serves even the calls whose caller gave up), measures
that capacity through the transport (a closed loop; or takes -capacity), then
offers it open-loop load at multiples of it (-load), each call with a -timeout
deadline, first with the server's admission control off, then on
(-max-calls, -call-queue: common/shed, as every server program has it).

Prints, per transport, mode and offered load, the goodput (successful calls/s)
and the p50 and p99 latency of the successful calls (from the intended send
time), the calls shed (refused at once as unavailable) and those that failed
otherwise. Without shedding, past capacity the server's queue grows, p99 climbs
to the deadline and goodput collapses (the server works on calls whose callers
have given up); with shedding, goodput stays near capacity and p99 stays low.
The default form takes about 35 seconds on two cores.

Flags:
`)
		fs.PrintDefaults()
	}
	transports := fs.String("transports", strings.Join(c.Transports, ","), "comma-separated `list` of transports (known: "+strings.Join(registry.Names(false), ", ")+")")
	fs.Float64Var(&c.Capacity, "capacity", 0, "the servers' capacity in calls/s (0: measure it through each transport first)")
	load := fs.String("load", "0.5,1,2,3", "offered loads as multiples of the capacity, comma-separated")
	backend := fs.String("backend", c.Backend.String(), "every server's backend: SLOTSxTIME, SLOTS workers held TIME a call")
	fs.IntVar(&c.MaxCalls, "max-calls", c.MaxCalls, "with shedding: calls in progress at once")
	fs.IntVar(&c.Queue, "call-queue", c.Queue, "with shedding: calls that may wait for a slot")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "every call's deadline")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "warm-up of every load point, not counted")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured time of every load point")
	modes := fs.String("shedding", "off,on", "shedding modes to run, in order: off, on, or off,on")
	htmlOut := fs.String("html", "", "write the table and the charts (goodput and p99 against offered load) as a self-contained HTML page to `FILE`")
	jsonOut := fs.String("json", "", "write the figures as JSON to `FILE`")
	quiet := fs.Bool("quiet", false, "print no table or progress, only errors")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "loadtest overload: %v\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	c.Transports = splitList(*transports)
	var err error
	if c.Multiples, err = parseFloats(*load); err != nil {
		return fail(fmt.Errorf("-load: %w", err))
	}
	if c.Backend, err = server.ParseBackend(*backend); err != nil {
		return fail(fmt.Errorf("-backend: %w", err))
	}
	c.Modes = nil
	for _, m := range splitList(*modes) {
		switch m {
		case "off":
			c.Modes = append(c.Modes, false)
		case "on":
			c.Modes = append(c.Modes, true)
		default:
			return fail(fmt.Errorf("-shedding %q: want off, on or off,on", *modes))
		}
	}
	if err := c.Validate(); err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress overload.Progress
	if !*quiet {
		progress = func(line string) { fmt.Fprintf(stderr, "%s\n", line) }
	}
	start := time.Now()
	rep, err := overload.Run(ctx, c, progress)
	if rep == nil {
		fmt.Fprintf(stderr, "loadtest overload: %v\n", err)
		return 1
	}
	if !*quiet {
		overload.WriteText(stdout, rep)
		fmt.Fprintf(stdout, "(took %v)\n", time.Since(start).Round(time.Second))
	}
	for _, x := range []struct {
		path string
		f    func(io.Writer, *overload.Report) error
	}{{*htmlOut, overload.WriteHTML}, {*jsonOut, overload.WriteJSON}} {
		if x.path == "" {
			continue
		}
		if err := writeOut(x.path, func(w io.Writer) error { return x.f(w, rep) }); err != nil {
			fmt.Fprintf(stderr, "loadtest overload: %v\n", err)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest overload: %v\n", err)
		if ctx.Err() != nil {
			return 130
		}
		return 1
	}
	return 0
}
