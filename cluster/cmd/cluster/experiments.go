package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/transports"
)

const fencingUsage = `usage: cluster fencing [-transport raw] [-store postgres://...] [-lease 2s] [-json FILE] [-html FILE]

The process-pause and fencing experiment (about 15 s): two replicas of
-transport on one PostgreSQL database (a fresh schema of -store, dropped
afterwards), with a claim lease of -lease.
  1. A client deposits through replica A. A claims the idempotency key
     (fencing token N) and pauses itself (SIGSTOP) before applying it.
  2. Past the lease, the client's retry (same key) goes to replica B,
     which takes the claim over under a newer token M > N and applies it.
  3. A is resumed (SIGCONT) and goes on to apply the deposit with N.
It runs twice: without the fence (the experiment's own switch: the store
does not check the token) A applies the deposit a second time and the
audit finds a duplicate, the two transactions carrying N and M; with the
fence (the default of every server) A is refused and changes nothing.
It prints a report, and writes it as JSON and HTML with -json and -html.

`

const clocksUsage = `usage: cluster clocks [-transport raw] [-store postgres://...] [-retention 2s] [-skew 10s] [-json FILE] [-html FILE]

The unreliable-clocks experiment (about 10 s): two replicas of -transport
on one PostgreSQL database (a fresh schema of -store, dropped afterwards),
keys kept for -retention; replica B's wall clock runs -skew ahead of A's
(-clock-offset).
  1. A deposit is applied on A; its retry (same key) goes to B.
  2. A deposit on account 2 through B, then one on account 3 through A.
It runs twice: with each replica's clock deciding (the experiment's own
switch) B takes the retried key for expired and applies the deposit again
(the audit finds a duplicate), and the statements date the later deposit
(on A) before the earlier one (on B); with the database's clock deciding
(the default of every server) the retry is a replay and the times are in
real order.
It prints a report, and writes it as JSON and HTML with -json and -html.

`

// experiment is the common part of the clocks and fencing subcommands.
type experiment struct {
	name, usage string
	register    func(fs *flag.FlagSet)
	run         func(ctx context.Context, bin, transport, pg string) (report, error)
}

// report is an experiment's result.
type report interface {
	WriteText(io.Writer)
	WriteJSON(io.Writer) error
	WriteHTML(io.Writer) error
}

func experimentMain(e experiment, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(e.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, e.usage); fs.PrintDefaults() }
	tr := fs.String("transport", "raw", "transport of the replicas: "+strings.Join(transports.Names(), ", "))
	pg := fs.String("store", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "the PostgreSQL database (a fresh schema of it per run)")
	binFlag := fs.String("bin", "", "the experiments' server binary (default: go build cluster/internal/replica; run from the checkout then)")
	jsonFile := fs.String("json", "", "write the result as JSON to `FILE`")
	htmlFile := fs.String("html", "", "write the result as an HTML page to `FILE`")
	e.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := *binFlag
	if bin == "" {
		dir, err := cluster.TempDir()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if bin, err = cluster.BuildReplica(ctx, dir); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	r, err := e.run(ctx, bin, *tr, *pg)
	if err != nil {
		fmt.Fprintf(stderr, "cluster %s: %v\n", e.name, err)
		return 1
	}
	r.WriteText(stdout)
	for _, out := range []struct {
		file  string
		write func(io.Writer) error
	}{{*jsonFile, r.WriteJSON}, {*htmlFile, r.WriteHTML}} {
		if out.file == "" {
			continue
		}
		f, err := os.Create(out.file)
		if err == nil {
			err = out.write(f)
			err = errors.Join(err, f.Close())
		}
		if err != nil {
			fmt.Fprintf(stderr, "cluster %s: %v\n", e.name, err)
			return 1
		}
	}
	return 0
}

func fencingMain(args []string, stdout, stderr io.Writer) int {
	cfg := cluster.DefaultFencingConfig()
	return experimentMain(experiment{
		name: "fencing", usage: fencingUsage,
		register: func(fs *flag.FlagSet) {
			fs.DurationVar(&cfg.Lease, "lease", cfg.Lease, "the store's claim lease: how long A's claim holds before B may take it over")
		},
		run: func(ctx context.Context, bin, tr, pg string) (report, error) {
			cfg.Bin, cfg.Transport, cfg.Postgres = bin, tr, pg
			return cluster.RunFencing(ctx, cfg)
		},
	}, args, stdout, stderr)
}

func clocksMain(args []string, stdout, stderr io.Writer) int {
	cfg := cluster.DefaultClocksConfig()
	return experimentMain(experiment{
		name: "clocks", usage: clocksUsage,
		register: func(fs *flag.FlagSet) {
			fs.DurationVar(&cfg.Retention, "retention", cfg.Retention, "how long the store keeps idempotency keys")
			fs.DurationVar(&cfg.Skew, "skew", cfg.Skew, "how far replica B's wall clock runs ahead of A's")
		},
		run: func(ctx context.Context, bin, tr, pg string) (report, error) {
			cfg.Bin, cfg.Transport, cfg.Postgres = bin, tr, pg
			return cluster.RunClocks(ctx, cfg)
		},
	}, args, stdout, stderr)
}
