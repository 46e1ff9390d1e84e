// Command cluster starts IGBank server replicas of one transport on one
// store, behind HAProxy when there is more than one, and serves until
// SIGINT or SIGTERM:
//
//	cluster -transport grpc -replicas 2 -store postgres://postgres@127.0.0.1/igbank [-lb 127.0.0.1:8003]
//
// -register etcd:///igbank/grpc makes every replica register itself in
// the directory (etcd at -directory), beside HAProxy, or instead of it
// with -lb none; it then prints the logical name for clients to use.
//
// cluster directory runs the directory experiment (SIGKILL and SIGSTOP of
// one of three replicas, with and without the directory; -h explains).
// cluster fencing (a replica paused past its claim's lease, without and
// with the fencing token) and cluster clocks (replicas whose clocks
// disagree) run the experiments on process pauses and unreliable clocks.
//
// -otlp URL makes every replica export its traces there (package
// common/traces). -log-format text|json and -log-level choose how it
// logs, to standard error. It prints the address to drive (HAProxy's, or
// the one replica's), for example with loadtest run -addr ADDR -transports
// grpc -no-reference.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/store"
	"github.com/igbank/igbank/transports"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "directory":
			os.Exit(directoryMain(os.Args[2:], os.Stdout, os.Stderr))
		case "fencing":
			os.Exit(fencingMain(os.Args[2:], os.Stdout, os.Stderr))
		case "clocks":
			os.Exit(clocksMain(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	tr := flag.String("transport", "grpc", "transport of the replicas: "+strings.Join(transports.Names(), ", "))
	n := flag.Int("replicas", 2, "number of server replicas (more than 1 starts HAProxy in front)")
	spec := flag.String("store", "memory", store.Usage+" (replicas share only a postgres store)")
	accounts := flag.Int("accounts", ledger.DefaultAccounts, "number of seeded accounts")
	lb := flag.String("lb", "", "HAProxy's address (default: a free loopback port); none: no HAProxy, clients find the replicas through the directory (-register)")
	binFlag := flag.String("bin", "", "server binary to run (default: go build the transport's cmd/server; run from the checkout then)")
	addr := flag.String("addr", "", "the address of a single replica (with -replicas 1; default: a free loopback port)")
	var replicas cluster.ReplicaFlags
	sec := &replicas.Security
	flag.StringVar(&sec.TLSCert, "tls-cert", "", "the replicas serve TLS with the certificate in `FILE` (with -tls-key); HAProxy then passes connections through (TCP mode)")
	flag.StringVar(&sec.TLSKey, "tls-key", "", "the private key of -tls-cert")
	flag.StringVar(&sec.ClientCA, "client-ca", "", "the replicas require client certificates of the CAs in `FILE`, and authorize calls")
	flag.StringVar(&sec.TokenKey, "token-key", "", "the replicas check bearer tokens with the public key in `FILE`, and authorize calls")
	flag.StringVar(&replicas.Metrics, "metrics", "", "the replicas serve Prometheus metrics at http://`ADDR`/metrics, replica i at i-1 ports above ADDR's (a loopback address; port 0: free ports, logged)")
	replicas.Log.Register(flag.CommandLine)            // the cluster's log and its replicas'
	replicas.Traces.Register(flag.CommandLine)         // -otlp, passed to every replica
	replicas.Directory.RegisterFlags(flag.CommandLine) // -register etcd:///igbank/grpc: every replica registers in the directory
	offsets := flag.String("clock-offsets", "", "experiment: each replica's wall-clock offset, comma-separated (such as 0,10s: the second runs 10 s ahead)")
	flag.Parse()
	for o := range strings.SplitSeq(*offsets, ",") {
		if o = strings.TrimSpace(o); o != "" {
			d, err := time.ParseDuration(o)
			if err != nil {
				fmt.Fprintf(os.Stderr, "-clock-offsets: %v\n", err)
				os.Exit(2)
			}
			replicas.Clocks = append(replicas.Clocks, cli.Clock{Offset: d})
		}
	}
	if err := sec.CheckMetrics(replicas.Metrics); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger, err := replicas.Log.Logger(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fatal := func(v any) {
		logger.Error("cluster failed", logs.Transport, *tr, logs.Err, v)
		os.Exit(1)
	}
	if *n < 1 {
		fatal("-replicas must be at least 1")
	}
	if *lb == cluster.NoLB && replicas.Directory.Register == "" {
		fatal("-lb none leaves the replicas behind no address: give -register etcd:///igbank/TRANSPORT")
	}
	if *n > 1 && !strings.HasPrefix(*spec, "postgres") {
		fatal("replicas share state only through a postgres store: use -store postgres://...")
	}
	dir, err := cluster.TempDir()
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	bin := *binFlag
	if bin == "" {
		if bin, err = cluster.Build(ctx, dir, *tr); err != nil {
			fatal(err)
		}
	}
	stop := func() {}
	target := ""
	if *n == 1 {
		a := *addr
		if a == "" {
			if a, err = cluster.FreeAddr(); err != nil {
				fatal(err)
			}
		}
		args, err := cluster.ServerArgs(*tr)
		if err != nil {
			fatal(err)
		}
		extra, maddr, err := replicas.Args(0)
		if err != nil {
			fatal(err)
		}
		p, err := cluster.Start(ctx, bin, a, *spec, *accounts, append(args, extra...)...)
		if err != nil {
			fatal(err)
		}
		p.Metrics = maddr
		stop = func() { p.Stop(10 * time.Second) }
		target = a
		logReplicas(logger, *tr, []*cluster.Proc{p})
	} else {
		c, err := cluster.StartCluster(ctx, dir, *tr, bin, *n, *spec, *accounts, *lb, replicas)
		if err != nil {
			fatal(err)
		}
		stop = func() { c.Stop() }
		if c.LB != nil {
			target = c.LB.Addr
		} else {
			target = replicas.Directory.Register
		}
		logReplicas(logger, *tr, c.Replicas)
	}
	cancel()
	// Signals are caught before the ready line: whoever waits for it may
	// stop the cluster at once.
	sig, stopSig := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSig()
	fmt.Println(target)
	logger.Info(fmt.Sprintf("cluster of %d %s replica(s) on %s ready on %s", *n, *tr, logs.StoreSpec(*spec), target),
		logs.Transport, *tr, logs.Replicas, *n, logs.Store, logs.StoreSpec(*spec), logs.Addr, target)
	<-sig.Done()
	logger.Info("cluster shutting down", logs.Transport, *tr)
	stop()
}

// logReplicas logs where each replica serves, and its metrics.
func logReplicas(logger *slog.Logger, tr string, ps []*cluster.Proc) {
	for i, p := range ps {
		kv := []any{logs.Transport, tr, logs.Addr, p.Addr}
		if p.Metrics != "" {
			kv = append(kv, logs.Metrics, p.Metrics)
		}
		logger.Info(fmt.Sprintf("replica %d on %s", i+1, p.Addr), kv...)
	}
}
