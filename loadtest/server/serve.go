package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/fault"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/netem"
	"github.com/igbank/igbank/common/shed"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
)

// Config is one server: what "loadtest serve" serves, and how the load
// generator starts one.
type Config struct {
	Transport string `json:"transport"` // a registry name, the reference included
	Addr      string `json:"addr"`      // where to listen; "": 127.0.0.1:0
	Accounts  int    `json:"accounts"`  // seeded accounts
	// Store is the ledger, as common/store.Open reads it: "memory" (or
	// ""), "sqlite:PATH" or "postgres://...".
	Store string `json:"store"`
	CPUs  []int  `json:"cpus,omitempty"` // pin the process to these CPUs (Serve only)
	// Control makes Serve talk to the load generator: it prints its
	// address as a JSON line, answers "stats" (and "settled-stats", after
	// two collections, the second debug.FreeOSMemory) lines on its
	// standard input
	// with its accounting as JSON lines, and stops when standard input
	// closes. StartChild sets it.
	Control bool `json:"control,omitempty"`
	// IgnoreKeys makes the server ignore idempotency keys
	// (bank.IgnoreKeys): the partial-failure lab's bug, under which a
	// retried deposit is applied again.
	IgnoreKeys bool `json:"ignore_keys,omitempty"`
	// Fault makes the server die on a deposit (common/fault): a process
	// SIGKILLs itself.
	Fault fault.Spec `json:"fault"`
	// Security is TLS, client certificates and bearer tokens, as the
	// flags of every cmd/server say them (common/cli). A client CA or a
	// token key serves the bank behind auth.Authorize.
	Security cli.ServerSecurity `json:"security"`
	// MaxConns is the server's connection limit
	// (transport.WithMaxConns; 0: the transport's default, 1,024).
	MaxConns int `json:"max_conns,omitempty"`
	// Network is the emulated network beneath the server's listener
	// (common/netem): every round trip to it takes the profile's latency,
	// every byte its bandwidth. The zero profile is loopback.
	Network netem.Profile `json:"network"`
	// Statements, if set, seeds statement months in the in-memory ledger
	// (the load generator's payload sizes).
	Statements *Statements `json:"statements,omitempty"`
	// Metrics is -metrics: the address at which to serve the server's
	// Prometheus metrics (common/metrics) at /metrics; "": none. The
	// loopback rule of every cmd/server applies.
	Metrics string `json:"metrics,omitempty"`
	// Shed is -max-calls and -call-queue: admission control of calls
	// (common/shed), as every cmd/server has it; MaxCalls 0 is none.
	Shed cli.ShedFlags `json:"shed"`
	// Backend is -backend: a resource of fixed capacity every call
	// holds (the overload experiment's server); the zero Backend is none.
	Backend Backend `json:"backend"`
	// Log is -log-format and -log-level: how Serve logs, to standard
	// error.
	Log logs.Flags `json:"log"`
	// Clock is -clock-offset and -clock-drift: the server's wall clock,
	// wrong on purpose (common/clock).
	Clock cli.Clock `json:"clock"`
	// OTLP is -otlp: the OTLP/HTTP endpoint the server exports its spans
	// to (package traces); "" traces nothing.
	OTLP string `json:"otlp,omitempty"`
	// Logger is the server's logger (transport.ServerConfig.Logger; nil:
	// slog.Default()). Serve sets it from Log. It cannot be passed to a
	// server process.
	Logger *slog.Logger `json:"-"`
	// Die is what dying is for a server in this process (nil: SIGKILL the
	// process). It cannot be passed to a server process.
	Die func() `json:"-"`
}

// Statements says what to seed: Rows transactions in Month for each of
// the accounts 1 to Accounts (ledger.Memory.SeedMonth).
type Statements struct {
	Month    bank.Month `json:"month"`
	Accounts int        `json:"accounts"`
	Rows     int        `json:"rows"`
}

// seededRows bounds the transactions a server seeds for statements, so
// that a sweep to 10,000 rows a statement holds about 100 MB, not a
// transaction per row for every account.
const seededRows = 1_000_000

// StatementAccounts is how many accounts, from the first, have their
// statement month seeded with rows transactions: all of accounts, or as
// many as a million rows allow (100 accounts of 10,000 rows). Statements
// go to these accounts.
func StatementAccounts(accounts, rows int) int {
	return min(accounts, max(1, seededRows/max(rows, 1)))
}

// DefaultConfig is "loadtest serve" with no flags but -transport.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:0", Accounts: ledger.DefaultAccounts, Store: "memory"}
}

// maxAccounts is the most accounts a server seeds: account numbers have
// nine digits.
const maxAccounts = 999_999_999

// maxConns is the largest connection limit a server takes: the file
// limit of a machine like the ones the project runs on is 20,000.
const maxConns = 100_000

// ErrAccounts is the error of a Config whose Accounts is out of range.
var ErrAccounts = errors.New("out of range: want 1 to 999999999")

// Validate checks c and resolves its transport.
func (c Config) Validate() (transport.Variant, error) {
	t, ok := registry.Lookup(c.Transport)
	if !ok {
		return t, fmt.Errorf("unknown transport %q (known: %s)", c.Transport, strings.Join(registry.Names(true), ", "))
	}
	if c.Accounts < 1 || c.Accounts > maxAccounts {
		return t, fmt.Errorf("accounts %d is %w", c.Accounts, ErrAccounts)
	}
	if c.MaxConns < 0 || c.MaxConns > maxConns {
		return t, fmt.Errorf("connection limit %d: want 0 (the transport's default) to %d", c.MaxConns, maxConns)
	}
	if _, err := c.Log.Logger(io.Discard); err != nil {
		return t, err
	}
	if _, err := c.Shed.Config(nil); err != nil {
		return t, err
	}
	if c.OTLP != "" {
		if _, err := traces.ExportURL(c.OTLP); err != nil {
			return t, err
		}
	}
	if st := c.Statements; st != nil {
		if err := bank.ValidateMonth(st.Month); err != nil {
			return t, fmt.Errorf("statements: %w", err)
		}
		if st.Rows < 0 || st.Rows > seededRows || st.Accounts < 1 || st.Accounts > c.Accounts || st.Accounts*st.Rows > seededRows {
			return t, fmt.Errorf("statements: %d accounts of %d rows: want at most %d rows in all, on seeded accounts", st.Accounts, st.Rows, seededRows)
		}
		if c.Store != "" && c.Store != "memory" {
			return t, fmt.Errorf("statements are seeded in the in-memory ledger only, not %s", c.Store)
		}
	}
	return t, nil
}

// Args are the flags of "loadtest serve" that say c, for a human to read
// in a process list or to run again.
func (c Config) Args() []string {
	var a []string
	if c.Control {
		a = append(a, "-control")
	}
	a = append(a, "-transport", c.Transport)
	if c.Addr != "" {
		a = append(a, "-addr", c.Addr)
	}
	a = append(a, "-accounts", strconv.Itoa(c.Accounts))
	if c.Store != "" {
		a = append(a, "-store", c.Store)
	}
	if len(c.CPUs) > 0 {
		cs := make([]string, len(c.CPUs))
		for i, n := range c.CPUs {
			cs[i] = strconv.Itoa(n)
		}
		a = append(a, "-cpus", strings.Join(cs, ","))
	}
	if c.IgnoreKeys {
		a = append(a, "-idempotency", "off")
	}
	if c.MaxConns > 0 {
		a = append(a, "-max-conns", strconv.Itoa(c.MaxConns))
	}
	if c.Network.Emulated() {
		a = append(a, "-network", c.Network.String())
	}
	if c.Metrics != "" {
		a = append(a, "-metrics", c.Metrics)
	}
	if c.Shed.MaxCalls > 0 {
		a = append(a, "-max-calls", strconv.Itoa(c.Shed.MaxCalls), "-call-queue", strconv.Itoa(c.Shed.Queue))
	}
	if c.Backend.On() {
		a = append(a, "-backend", c.Backend.String())
	}
	if st := c.Statements; st != nil {
		a = append(a, "-statement-month", string(st.Month), "-statement-accounts", strconv.Itoa(st.Accounts), "-statement-rows", strconv.Itoa(st.Rows))
	}
	if c.Fault.Kind != fault.None {
		a = append(a, "-fault", c.Fault.String())
	}
	if c.Log.Format != "" && c.Log.Format != "text" {
		a = append(a, "-log-format", c.Log.Format)
	}
	if c.Log.Level != "" && c.Log.Level != "info" {
		a = append(a, "-log-level", c.Log.Level)
	}
	if c.OTLP != "" {
		a = append(a, "-otlp", c.OTLP)
	}
	return append(a, c.Security.Args()...)
}

// wrap decorates the server's bank b as c says.
func (c Config) wrap(b bank.Bank) bank.Bank {
	b = c.Backend.wrap(b)
	if c.IgnoreKeys {
		b = bank.IgnoreKeys(b)
	}
	if c.Fault.Kind != fault.None {
		b = fault.Wrap(b, c.Fault.Plan(), nil, c.Die)
	}
	if c.Security.Authenticates() {
		b = auth.Authorize(b)
	}
	sc, _ := c.Shed.Config(c.Logger) // Validate checked it
	return shed.New(b, sc)
}

// childEnv holds, in the environment of a server process that StartChild
// starts, the process's Config as JSON (see MaybeServe).
const childEnv = "IGBANK_LOADTEST_SERVE"

// MaybeServe runs Serve and exits if this process was started by
// StartChild: the command calls it first thing, and so does the TestMain
// of every test binary that starts server processes, because
// os.Executable is then the test binary, not the command.
func MaybeServe() {
	js, ok := os.LookupEnv(childEnv)
	if !ok || len(os.Args) < 2 || os.Args[1] != "serve" {
		return
	}
	var c Config
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		fmt.Fprintf(os.Stderr, "serve: %s: %v\n", childEnv, err)
		os.Exit(2)
	}
	os.Exit(Serve(c, os.Stdin, os.Stdout, os.Stderr))
}

type readyLine struct {
	Addr    string `json:"addr"`
	PID     int    `json:"pid"`
	Metrics string `json:"metrics,omitempty"`
}

// Serve serves c until SIGINT or SIGTERM (with c.Control: until standard
// input closes) and returns the exit status: 0 after a clean shutdown, 2
// for a Config that does not validate, 1 for a server that failed.
func Serve(c Config, stdin io.Reader, stdout, stderr io.Writer) int {
	t, err := c.Validate()
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 2
	}
	logger, err := c.Log.Logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 2
	}
	c.Logger = logger
	fail := func(err error) {
		logger.Error(fmt.Sprintf("igbank %s server failed", t.Name), logs.Transport, t.Name, logs.Err, err)
	}
	if err := PinCPUs(c.CPUs); err != nil {
		fail(err)
		return 1
	}
	if c.Control {
		// Ctrl-C reaches the whole process group; the generator decides
		// when its servers stop, by closing standard input.
		signal.Ignore(os.Interrupt, syscall.SIGTERM)
	}
	s, err := startStore(t, c)
	if err != nil {
		fail(err)
		return 1
	}
	stop := func() int {
		if err := s.Close(); err != nil {
			fail(err)
			return 1
		}
		return 0
	}
	enc := json.NewEncoder(stdout)
	if c.Control {
		enc.Encode(readyLine{Addr: s.addr, PID: os.Getpid(), Metrics: s.MetricsAddr()})
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			switch strings.TrimSpace(sc.Text()) {
			case "stats":
				enc.Encode(s.stats(true))
			case "settled-stats":
				// Two collections empty sync.Pool's victim cache too.
				runtime.GC()
				debug.FreeOSMemory()
				enc.Encode(s.stats(true))
			case "quit":
				return stop()
			}
		}
		return stop()
	}
	// Signals are caught before the ready line: whoever waits for it may
	// stop the server at once.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ready := []any{logs.Transport, t.Name, logs.Addr, s.addr}
	if m := s.MetricsAddr(); m != "" {
		ready = append(ready, logs.Metrics, m)
	}
	logger.Info(fmt.Sprintf("igbank %s server ready on %s", t.Name, s.addr), append(ready,
		logs.Accounts, c.Accounts, logs.Store, logs.StoreSpec(c.Store))...)
	select {
	case <-ctx.Done():
	case err := <-s.done:
		fail(err)
		return 1
	}
	logger.Info(fmt.Sprintf("igbank %s server shutting down", t.Name), logs.Transport, t.Name)
	return stop()
}
