package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/netem"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

const serveUsage = `usage: loadtest serve -transport NAME [-addr HOST:PORT] [-accounts N] [-store SPEC] [-cpus LIST]
                     [-idempotency on|off] [-fault PLAN] [-max-conns N] [-network PROFILE]
                     [-statement-rows N [-statement-accounts N] [-statement-month YYYY-MM]]
                     [-tls-cert FILE -tls-key FILE [-client-ca FILE]] [-token-key FILE]
                     [-log-format text|json] [-log-level debug|info|warn|error] [-metrics ADDR]
                     [-max-calls N [-call-queue N]] [-backend SLOTSxTIME]

Serves one registered transport over the ledger -store names until SIGINT or
SIGTERM. With -control (how "loadtest run" starts it), it prints its
address as a JSON line, answers "stats" lines on standard input with its own
accounting as JSON lines, and shuts down when standard input closes.

The partial-failure lab's server-side faults: -idempotency=off makes the
server ignore idempotency keys (bank.IgnoreKeys: every retry of a deposit
is applied again, the workshop's bug), and -fault makes the process kill
itself with SIGKILL on a deposit (common/fault):
  crash-before-apply[:N]  after reading the Nth deposit, before applying it
  crash-after-apply[:N]   after applying the Nth deposit, before answering it
  KIND:p=P,seed=S         on each deposit with probability P instead
Deposits are counted from the process's start; run it on -store sqlite:PATH
and start it again on the same file to see what survived.

Overload (see "loadtest overload"): -max-calls and -call-queue are the
admission control every server program has (common/shed); -backend 8x2ms
makes every call hold one of 8 workers for 2 ms, a server of a small and
steady capacity (4,000 calls/s) to drive past it.

`

// serveMain is the serve command.
func serveMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseServeFlags(args, stderr)
	if err != nil {
		if err != errUsage {
			fmt.Fprintf(stderr, "serve: %v\n", err)
		}
		return 2
	}
	return server.Serve(c, stdin, stdout, stderr)
}

// errUsage is a command line that the flag package has already
// explained.
var errUsage = errors.New("usage")

func parseServeFlags(args []string, stderr io.Writer) (server.Config, error) {
	c := server.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage); fs.PrintDefaults() }
	fs.StringVar(&c.Transport, "transport", "", "transport to serve: "+strings.Join(registry.Names(true), ", "))
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on")
	fs.IntVar(&c.Accounts, "accounts", c.Accounts, "number of seeded accounts")
	fs.StringVar(&c.Store, "store", c.Store, "ledger: memory, sqlite:PATH or postgres://...")
	cpus := fs.String("cpus", "", "pin the process to these CPUs, such as 0 or 0,1")
	fs.BoolVar(&c.Control, "control", false, "talk to the load generator on standard input and output")
	idem := fs.String("idempotency", "on", "on, or off to ignore idempotency keys (the partial-failure lab's bug)")
	faultSpec := fs.String("fault", "none", "kill this process on a deposit: crash-before-apply[:N], crash-after-apply[:N] or KIND:p=P,seed=S")
	network := fs.String("network", "loopback", "emulated network beneath the listener: loopback, lan, wan, longhaul or custom:latency=D[:jitter=D][:up=RATE][:down=RATE]")
	fs.IntVar(&c.MaxConns, "max-conns", 0, "connection limit (0: the transport's default, 1024)")
	fs.StringVar(&c.Metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (a loopback address); empty: none")
	stRows := fs.Int("statement-rows", -1, "seed `N` transactions in the statement month of the first accounts (in-memory ledger; -1: none)")
	stAccounts := fs.Int("statement-accounts", 0, "with -statement-rows, how many accounts from the first (0: as many as a million rows allow)")
	stMonth := fs.String("statement-month", string(bank.MonthOf(time.Now())), "with -statement-rows, the month seeded, YYYY-MM")
	fs.StringVar(&c.Security.TLSCert, "tls-cert", "", "serve TLS with the certificate in `FILE` (with -tls-key)")
	fs.StringVar(&c.Security.TLSKey, "tls-key", "", "the private key of -tls-cert")
	fs.StringVar(&c.Security.ClientCA, "client-ca", "", "require client certificates of the CAs in `FILE` (and authorize calls)")
	c.Log.Register(fs)
	c.Shed.Register(fs)
	backend := fs.String("backend", "none", "every call holds one of SLOTS workers for TIME: SLOTSxTIME, such as 8x2ms (a server of fixed capacity), or none")
	c.Clock.Register(fs)
	fs.StringVar(&c.OTLP, "otlp", traces.DefaultEndpoint(), traces.Usage)
	fs.StringVar(&c.Security.TokenKey, "token-key", "", "check bearer tokens with the public key in `FILE` (and authorize calls)")
	if err := fs.Parse(args); err != nil {
		return c, errUsage
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.Shed.MaxCalls == 0:
		c.Shed = cli.ShedFlags{} // no shedding, however -call-queue reads
	case c.Shed.Queue == -1:
		c.Shed.Queue = 2 * c.Shed.MaxCalls
	}
	var err error
	if c.Backend, err = server.ParseBackend(*backend); err != nil {
		return c, err
	}
	if c.Network, err = netem.Parse(*network); err != nil {
		return c, err
	}
	if !c.Network.Emulated() {
		c.Network = netem.Profile{} // the zero profile is loopback
	}
	if *stRows >= 0 {
		n := *stAccounts
		if n == 0 {
			n = server.StatementAccounts(c.Accounts, *stRows)
		}
		c.Statements = &server.Statements{Month: bank.Month(*stMonth), Accounts: n, Rows: *stRows}
	}
	if _, err := c.Validate(); err != nil {
		if errors.Is(err, server.ErrAccounts) {
			return c, fmt.Errorf("-accounts %d is out of range", c.Accounts)
		}
		return c, err
	}
	if c.IgnoreKeys, err = parseIdempotency(*idem); err != nil {
		return c, err
	}
	if c.Fault, err = fault.Parse(*faultSpec); err != nil {
		return c, err
	}
	if c.CPUs, err = parseCPUs(*cpus); err != nil {
		return c, err
	}
	return c, nil
}

func parseCPUs(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n >= 1024 {
			return nil, fmt.Errorf("CPU list %q: %q is not a CPU number", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseIdempotency reads an -idempotency flag: "on" (the server honours
// idempotency keys) or "off" (it ignores them: the workshop's double
// deposit, bank.IgnoreKeys).
func parseIdempotency(v string) (ignoreKeys bool, err error) {
	switch v {
	case "on":
		return false, nil
	case "off":
		return true, nil
	}
	return false, fmt.Errorf("-idempotency is on or off, not %q", v)
}
