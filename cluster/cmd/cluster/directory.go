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
	"github.com/igbank/igbank/common/directory"
	"github.com/igbank/igbank/transports"
)

const directoryUsage = `usage: cluster directory [-transport raw] [-directory HOST:PORT] [-lease-ttl 2s] [-json FILE] [-html FILE]

The directory experiment (about 25 s): three replicas of -transport on
in-memory stores and a load of Balance calls through the shared retry
layers.
  1. Clients given fixed addresses; one replica is SIGKILLed: its clients
     fail until someone tells them otherwise.
  2. The replicas register in the directory (etcd at -directory) under a
     lease of -lease-ttl kept alive by heartbeat; clients resolve the
     logical name. One is SIGKILLed: its lease expires, its address leaves
     the set (detection time, against the TTL) and clients move on.
  3. A replica is paused (SIGSTOP) for half the TTL: not suspected. Then
     for twice the TTL and a second: suspected and removed although alive
     (a false suspicion); after SIGCONT it registers again.
It prints a report, and writes it as JSON and HTML with -json and -html.

`

// directoryMain is the directory subcommand.
func directoryMain(args []string, stdout, stderr io.Writer) int {
	cfg := cluster.DefaultFailoverConfig()
	fs := flag.NewFlagSet("directory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, directoryUsage); fs.PrintDefaults() }
	fs.StringVar(&cfg.Transport, "transport", cfg.Transport, "transport of the replicas: "+strings.Join(transports.Names(), ", "))
	fs.StringVar(&cfg.Etcd, "directory", directory.Endpoints(), "etcd endpoints of the directory (default $"+directory.EnvVar+", else "+directory.DefaultEndpoints+")")
	fs.DurationVar(&cfg.TTL, "lease-ttl", cfg.TTL, "the replicas' lease TTL (whole seconds, 2s at least)")
	fs.StringVar(&cfg.Bin, "bin", "", "server binary (default: go build the transport's cmd/server; run from the checkout then)")
	jsonFile := fs.String("json", "", "write the result as JSON to `FILE`")
	htmlFile := fs.String("html", "", "write the result as an HTML page to `FILE`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if cfg.Bin == "" {
		dir, err := cluster.TempDir()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if cfg.Bin, err = cluster.Build(ctx, dir, cfg.Transport); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	r, err := cluster.RunFailover(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "cluster directory: %v\n", err)
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
			fmt.Fprintf(stderr, "cluster directory: %v\n", err)
			return 1
		}
	}
	return 0
}
