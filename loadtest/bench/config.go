package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/netem"
	"github.com/igbank/igbank/common/traces"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

// Config is a run's configuration: what "loadtest run" was asked to do.
// It is saved with the report.
type Config struct {
	Transports  []string      `json:"transports"`
	Reference   bool          `json:"reference"`  // run the TCP ping-pong in every round
	InProcess   bool          `json:"in_process"` // servers in this process instead of their own
	Pin         bool          `json:"pin"`        // pin servers to CPU 0 and the generator to the others
	Rounds      int           `json:"rounds"`
	Warmup      time.Duration `json:"warmup_ns"`
	Duration    time.Duration `json:"duration_ns"`
	Concurrency []int         `json:"concurrency"`
	Connections Counts        `json:"connections"` // none or 0: each transport's default; n: n connections (a pool of n, or n clients); several: a sweep
	Rates       []float64     `json:"rates,omitempty"`
	Timeout     time.Duration `json:"timeout_ns,omitempty"`
	Resilience  bool          `json:"resilience"` // wrap clients in the shared retry and breaker layers
	Workload    Workload      `json:"workload"`
	// Addr, if set, is a server already running for the one transport of
	// the run (with no reference): nothing is started, and the server's
	// own accounting is not available.
	Addr string `json:"addr,omitempty"`
	// Store is the ledger of every server started, as common/store.Open
	// reads it: "memory" (the default), "sqlite:PATH" or "postgres://...".
	// The servers of one run share it.
	Store string `json:"store,omitempty"`
	// IgnoreKeys makes every server started ignore idempotency keys
	// (bank.IgnoreKeys, "serve -idempotency=off"): the partial-failure
	// lab's bug, under which a retried deposit is applied again.
	IgnoreKeys bool `json:"ignore_keys,omitempty"`
	// Security lists the security modes to measure, a dimension of the
	// run like Concurrency: SecurityPlain (the default), SecurityTLS,
	// SecurityMTLS, SecurityToken. The TCP ping-pong reference stays
	// plaintext in every mode: the yardstick does not move.
	Security []string `json:"security,omitempty"`
	// Churn lists whether each call opens a connection of its own (dial,
	// call, close), as a dimension: false (the default) keeps the
	// connections; true shows what a connection, and its handshake, costs.
	Churn []bool `json:"churn,omitempty"`
	// Networks lists the network profiles to run under, as netem.Parse
	// reads them ("loopback", "lan", "wan", "longhaul", "custom:..."), a
	// dimension like Concurrency; none: loopback. The profile is applied
	// beneath every server's listener, the reference's included.
	Networks []string `json:"networks,omitempty"`
	// StatementRows lists how many transactions to seed in the statement
	// month of the statement accounts, a dimension; nil: none seeded. With
	// it, statements read pages of up to bank.MaxPageSize transactions.
	StatementRows []int `json:"statement_rows,omitempty"`
	// MaxConns is every server's connection limit (0: each transport's
	// default, 1,024).
	MaxConns int `json:"max_conns,omitempty"`
	// Shed is every server's admission control of calls (common/shed;
	// MaxCalls 0: none), and Backend a resource of fixed capacity behind
	// every server (server.Backend): the overload experiment's settings.
	Shed    cli.ShedFlags  `json:"shed,omitzero"`
	Backend server.Backend `json:"backend,omitzero"`
	// Metrics, if set, is where the generator serves the Prometheus
	// metrics of its clients and their layers (common/metrics) while the
	// run lasts; every server started then serves its own, on a port of
	// its own. For watching a long run, and for measuring what metrics
	// cost (the same run with and without).
	Metrics string `json:"metrics,omitempty"`
	// OTLP traces every call (package traces): the OTLP/HTTP endpoint the
	// generator's clients and the servers it starts export their spans
	// to, or OTLPDiscard for a receiver in the generator that counts and
	// discards them (traces.Receiver); "", the default, traces nothing.
	// The reference is never traced.
	OTLP string `json:"otlp,omitempty"`
}

// OTLPDiscard is the Config.OTLP of a run that traces every call and
// exports the spans to a receiver in the generator that throws them
// away: the cost of tracing, export included, without a collector.
const OTLPDiscard = "discard"

// DefaultConfig is "loadtest run" with no flags: every transport and the
// reference, 3 interleaved rounds of 0.5 s warm-up and 1.5 s measured, 64
// callers over one client each, servers in their own processes.
func DefaultConfig() Config {
	return Config{
		Transports:  registry.Names(false),
		Reference:   true,
		Rounds:      3,
		Warmup:      500 * time.Millisecond,
		Duration:    1500 * time.Millisecond,
		Concurrency: []int{64},
		Workload:    defaultWorkload(),
	}
}

// OpenLoop reports whether the run holds fixed rates.
func (c *Config) OpenLoop() bool { return len(c.Rates) > 0 }

// Describe is the table's header.
func (c *Config) Describe() string {
	var b strings.Builder
	if c.OpenLoop() {
		fmt.Fprintf(&b, "open loop at %s calls/s (latency from the intended send time), up to %d in flight", joinFloats(c.Rates), c.Concurrency[0])
	} else {
		fmt.Fprintf(&b, "closed loop, %s callers", joinInts(c.Concurrency))
	}
	if c.Connections.Max() > 0 {
		fmt.Fprintf(&b, ", %s connection(s) per transport", joinInts(c.Connections.Or(0)))
	} else {
		b.WriteString(", each transport's default connections")
	}
	if c.MaxConns > 0 {
		fmt.Fprintf(&b, ", servers' connection limit %d", c.MaxConns)
	}
	if c.Metrics != "" {
		b.WriteString(", Prometheus metrics on (clients and servers)")
	}
	fmt.Fprintf(&b, "; %s\n", c.Workload.describe())
	if c.StatementRows != nil {
		fmt.Fprintf(&b, "statements of %s seeded transactions in %s (pages of up to %d)\n", joinInts(c.StatementRows), c.Workload.Month, bank.MaxPageSize)
	}
	// Every report says which network it ran on, loopback included.
	networks := c.Networks
	if len(networks) == 0 {
		networks = []string{netem.Loopback.String()}
	}
	var ns []string
	for _, n := range networks {
		p, _ := netem.Parse(n)
		ns = append(ns, describeProfile(p))
	}
	fmt.Fprintf(&b, "network: %s", strings.Join(ns, "; "))
	if len(c.Networks) > 0 {
		b.WriteString(" (emulated beneath every server's listener)")
	}
	b.WriteString("\n")
	where := "servers in their own processes"
	switch {
	case c.Addr != "":
		where = "server already running at " + c.Addr
	case c.InProcess:
		where = "servers in the generator's process"
	}
	if c.IgnoreKeys {
		where += " ignoring idempotency keys"
	}
	if c.Pin {
		where += ", pinned to CPU 0 (generator on the others)"
	}
	res := "off"
	if c.Resilience {
		res = "on"
	}
	fmt.Fprintf(&b, "%d interleaved round(s) of %v warm-up + %v measured; %s; retry/breaker layers %s", c.Rounds, c.Warmup, c.Duration, where, res)
	switch c.OTLP {
	case "":
	case OTLPDiscard:
		b.WriteString("; traces on, exported to a discarding receiver in the generator")
	default:
		b.WriteString("; traces on, exported to " + c.OTLP)
	}
	return b.String()
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func joinFloats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strings.Join(s, ",")
}

// maxStatementRows is the most transactions a seeded statement month
// holds: ten pages of the largest size.
const maxStatementRows = 10 * bank.MaxPageSize

// The errors of Validate and Run that concern more than one setting.
var (
	// ErrAddrAlone: a server already running (Addr) is measured alone.
	ErrAddrAlone = errors.New("a server already running (addr) is measured alone: exactly one transport and no reference")
	// ErrOpenLoopConcurrency: an open loop (Rates) takes one Concurrency,
	// the most calls in flight, not a sweep.
	ErrOpenLoopConcurrency = errors.New("an open loop (rates) takes one concurrency: the most calls in flight")
	// ErrPinCPUs: Pin puts the servers on CPU 0 and the generator on the
	// others, so it needs two at least.
	ErrPinCPUs = errors.New("pinning needs at least 2 CPUs")
)

// Validate checks c and resolves its transports (the reference not
// among them). Its errors speak of the settings, by the names of their
// JSON fields.
func (c *Config) Validate() ([]transport.Variant, error) {
	if err := (&cli.ServerSecurity{}).CheckMetrics(c.Metrics); err != nil {
		return nil, err
	}
	var ts []transport.Variant
	seen := map[string]bool{}
	for _, n := range c.Transports {
		t, ok := registry.Lookup(n)
		if !ok || n == registry.ReferenceName {
			return nil, fmt.Errorf("unknown transport %q (known: %s)", n, strings.Join(registry.Names(false), ", "))
		}
		if seen[n] {
			return nil, fmt.Errorf("transport %q named twice", n)
		}
		seen[n] = true
		ts = append(ts, t)
	}
	if len(ts) == 0 && !c.Reference {
		return nil, errors.New("no transport to run")
	}
	switch {
	case c.Rounds < 1:
		return nil, fmt.Errorf("rounds %d: want at least 1", c.Rounds)
	case c.Duration <= 0:
		return nil, fmt.Errorf("duration %v: want more than 0", c.Duration)
	case c.Warmup < 0:
		return nil, fmt.Errorf("warm-up %v: want 0 or more", c.Warmup)
	case len(c.Concurrency) == 0:
		return nil, errors.New("no concurrency given")
	case c.Timeout < 0:
		return nil, fmt.Errorf("timeout %v: want 0 (none) or more", c.Timeout)
	case c.Workload.Accounts < 1 || c.Workload.Accounts > 999_999_999:
		return nil, fmt.Errorf("accounts %d: want 1 to 999999999", c.Workload.Accounts)
	case c.Workload.Zipf != 0 && c.Workload.Zipf <= 1:
		return nil, fmt.Errorf("zipf %g: want 0 (uniform) or an exponent above 1", c.Workload.Zipf)
	case c.Workload.Amount <= 0 || c.Workload.Amount > bank.MaxDeposit:
		return nil, fmt.Errorf("amount %d: want 1 to %d cents", c.Workload.Amount, bank.MaxDeposit)
	}
	if err := bank.ValidateMonth(c.Workload.Month); err != nil {
		return nil, fmt.Errorf("month: %v", err)
	}
	for _, n := range c.Connections {
		if n < 0 || n > 10_000 {
			return nil, fmt.Errorf("connections %d: want 0 (each transport's default) to 10000", n)
		}
	}
	for _, n := range c.Concurrency {
		if n < 1 || n > 100_000 {
			return nil, fmt.Errorf("concurrency %d: want 1 to 100000", n)
		}
	}
	if c.Addr != "" && (len(ts) != 1 || c.Reference) {
		return nil, ErrAddrAlone
	}
	if c.OpenLoop() && len(c.Concurrency) != 1 {
		return nil, ErrOpenLoopConcurrency
	}
	for _, n := range c.Networks {
		p, err := netem.Parse(n)
		if err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		if p.Emulated() && c.Addr != "" {
			return nil, fmt.Errorf("network %q: a server already running cannot be put behind this run's network", n)
		}
	}
	for _, r := range c.StatementRows {
		if r < 0 || r > maxStatementRows {
			return nil, fmt.Errorf("statement rows %d: want 0 to %d", r, maxStatementRows)
		}
	}
	if c.StatementRows != nil {
		switch {
		case c.Addr != "":
			return nil, errors.New("statement rows: a server already running cannot be seeded by this run")
		case c.Store != "" && c.Store != "memory":
			return nil, fmt.Errorf("statement rows are seeded in the in-memory ledger only, not %s", c.Store)
		}
	}
	if c.OTLP != "" && c.OTLP != OTLPDiscard {
		if _, err := traces.ExportURL(c.OTLP); err != nil {
			return nil, fmt.Errorf("otlp: %w (or %q)", err, OTLPDiscard)
		}
	}
	if c.MaxConns < 0 || c.MaxConns > 100_000 {
		return nil, fmt.Errorf("max conns %d: want 0 (each transport's default) to 100000", c.MaxConns)
	}
	if err := checkFileLimit(c); err != nil {
		return nil, err
	}
	for _, r := range c.Rates {
		if !(r > 0 && r <= 10_000_000) {
			return nil, fmt.Errorf("rate %g: want more than 0 and at most 10000000 calls/s", r)
		}
	}
	for _, m := range c.Security {
		if !validSecurity(m) {
			return nil, fmt.Errorf("security %q: want %s", m, strings.Join(securityModes, ", "))
		}
		if m != SecurityPlain && c.Addr != "" {
			return nil, fmt.Errorf("security %q: a server already running cannot be given this run's certificates", m)
		}
	}
	return ts, nil
}

// describeProfile says what a network profile emulates, for headers.
func describeProfile(p netem.Profile) string {
	if !p.Emulated() {
		return p.String() + " (no emulation)"
	}
	d := fmt.Sprintf("%s: %v one-way (%v round trip)", p.String(), p.Latency, p.RTT())
	if p.Jitter > 0 {
		d += fmt.Sprintf(" ±%v", p.Jitter)
	}
	bw := func(b netem.Bandwidth) string {
		if b == 0 {
			return "unlimited"
		}
		return strconv.FormatFloat(float64(b)/1e6, 'f', -1, 64) + " Mbit/s"
	}
	return d + fmt.Sprintf(", %s up, %s down", bw(p.Up), bw(p.Down))
}

// Counts is a list of counts, a dimension of a run such as its
// connections. In JSON it is a list; a single number, as reports saved
// before it was a list have it, reads as a list of one (0: none).
type Counts []int

// UnmarshalJSON reads a list or a single number.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*c = nil
		if n != 0 {
			*c = Counts{n}
		}
		return nil
	}
	var l []int
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*c = l
	return nil
}

// Max is the largest count, 0 for none.
func (c Counts) Max() int {
	m := 0
	for _, n := range c {
		m = max(m, n)
	}
	return m
}

// Or is c, or a list of def when c is empty.
func (c Counts) Or(def int) []int {
	if len(c) == 0 {
		return []int{def}
	}
	return c
}
