package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/igbank/igbank/loadtest/registry"

	"github.com/igbank/igbank/common/transport"
)

// FaultsMain is "loadtest faults": it returns the exit status (0: every
// cell passed, 1: one failed, 2: a malformed command line, 130: interrupted).
func FaultsMain(args []string, stdout, stderr io.Writer) int {
	c := DefaultFaultConfig()
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loadtest faults [flags]\n\nMakes partial failures happen on purpose between each transport's client and\nits server, on 127.0.0.1: network faults through an embedded Toxiproxy in front\nof a server in this process, crashes by SIGKILLing a server process of its own\non a SQLite file and restarting it. Drives deposits with idempotency keys\nthrough the shared client layers, then audits the ledger: every acknowledged\ndeposit applied exactly once, none twice, none invented, unknown outcomes\napplied at most once. Exit status 0: every cell passed; 1: one did not.\n\nScenarios:\n")
		for _, s := range Scenarios {
			fmt.Fprintf(stderr, "\n  %s\n%s\n", s.Name, indentWrap(s.Help, "      ", 78))
		}
		fmt.Fprintf(stderr, "\nFlags:\n")
		fs.PrintDefaults()
	}
	scenario := fs.String("scenario", "all", "`name` of the scenario, or all (known: "+strings.Join(ScenarioNames(), ", ")+")")
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
	jsonOut := fs.String("json", "", "write the matrix as JSON to `FILE`, with every call's timeline (\"loadtest report FILE\" renders it again)")
	htmlOut := fs.String("html", "", "write the matrix, the table and the outage timelines as a self-contained HTML page to `FILE`")
	quiet := fs.Bool("quiet", false, "print no table")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	c.NoBudget, c.NoBreaker = !*budget, !*breaker
	ignoreKeys, err := parseIdempotency(*idem)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest faults: %v\n", err)
		return 2
	}
	c.IgnoreKeys = ignoreKeys
	var scenarios []Scenario
	for _, n := range splitList(*scenario) {
		if n == "all" {
			scenarios = append(scenarios, Scenarios...)
			continue
		}
		s, ok := LookupScenario(n)
		if !ok {
			fmt.Fprintf(stderr, "loadtest faults: unknown scenario %q (known: %s)\n", n, strings.Join(ScenarioNames(), ", "))
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
	var results []FaultResult
	for _, s := range scenarios {
		for _, t := range trs {
			if ctx.Err() != nil {
				break
			}
			if !*quiet {
				fmt.Fprintf(stderr, "%s over %s ...\n", s.Name, t.Name)
			}
			results = append(results, RunFault(ctx, s, t, c))
		}
	}
	if !*quiet {
		WriteFaultMatrix(stdout, results)
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
			return 1
		}
	}
	return 0
}

// writeFaultFiles writes the matrix as JSON to jsonPath and as HTML to
// htmlPath, each if set.
func writeFaultFiles(results []FaultResult, jsonPath, htmlPath string) error {
	if jsonPath != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err == nil {
			err = os.WriteFile(jsonPath, append(b, '\n'), 0o644)
		}
		if err != nil {
			return err
		}
	}
	if htmlPath != "" {
		var b strings.Builder
		if err := WriteFaultsHTML(&b, results); err != nil {
			return err
		}
		if err := os.WriteFile(htmlPath, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ReadFaults reads a matrix written by "loadtest faults -json". ok is
// false when the file is not one (a JSON array of cells with a scenario):
// "loadtest report" then reads it as a run.
func ReadFaults(path string) (results []FaultResult, ok bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	var probe []map[string]json.RawMessage
	if json.Unmarshal(b, &probe) != nil || len(probe) == 0 || probe[0]["scenario"] == nil {
		return nil, false, nil
	}
	if err := json.Unmarshal(b, &results); err != nil {
		return nil, true, fmt.Errorf("%s: %w", path, err)
	}
	return results, true, nil
}

// faultsReport is "loadtest report FILE.json" for a fault matrix: the
// tables again, and the HTML page if asked. handled is false when path is
// not a fault matrix.
func faultsReport(path string, o *outputs, stdout, stderr io.Writer) (code int, handled bool) {
	results, ok, err := ReadFaults(path)
	if !ok && err == nil {
		return 0, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest report: %v\n", err)
		return 1, true
	}
	if o.csv != "" || o.bench != "" {
		fmt.Fprintln(stderr, "loadtest report: a fault matrix renders as a table or HTML only")
		return 2, true
	}
	if !o.quiet {
		WriteFaultMatrix(stdout, results)
	}
	if err := writeFaultFiles(results, "", o.html); err != nil {
		fmt.Fprintf(stderr, "loadtest report: %v\n", err)
		return 1, true
	}
	return 0, true
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

// WriteFaultMatrix prints the matrix, scenario × transport, then one line
// per cell with what the client saw, then the audit's problems and what
// the breaker did.
func WriteFaultMatrix(w io.Writer, results []FaultResult) {
	scen, trs, cell := faultGrid(results)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "exactly-once\t%s\t\n", strings.Join(trs, "\t"))
	for _, s := range scen {
		row := []string{s}
		for _, t := range trs {
			r, ok := cell[[2]string{s, t}]
			row = append(row, matrixCell(r, ok))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t\n", strings.Join(faultColumns, "\t"))
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\terror: %s\t\n", r.Scenario, r.Transport, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(faultRow(r), "\t"))
	}
	tw.Flush()
	for _, r := range results {
		for _, n := range faultNotes(r) {
			fmt.Fprintln(w, n)
		}
	}
}

// faultGrid lists the scenarios and transports of results in order of
// appearance, and the cell of each pair.
func faultGrid(results []FaultResult) (scen, trs []string, cell map[[2]string]FaultResult) {
	cell = map[[2]string]FaultResult{}
	for _, r := range results {
		if !faultContains(scen, r.Scenario) {
			scen = append(scen, r.Scenario)
		}
		if !faultContains(trs, r.Transport) {
			trs = append(trs, r.Transport)
		}
		cell[[2]string{r.Scenario, r.Transport}] = r
	}
	return scen, trs, cell
}

// faultColumns head the table of cells, in the terminal and the HTML page.
var faultColumns = []string{"scenario", "transport", "once", "acked", "applied", "unknown", "lost", "dup", "phantom", "replayed",
	"attempt errors", "retries/call", "attempts/call in fault", "breaker open/close/rejected", "p99 ms", "p99 ms in fault"}

// faultRow is r's row of the table of cells (r.Error empty).
func faultRow(r FaultResult) []string {
	a := r.Audit
	inFault, attInFault := "-", "-"
	if r.FaultCalls > 0 {
		inFault = fmt.Sprintf("%.1f", r.FaultP99Ms)
		if r.AttemptsPerCallInFault > 0 {
			attInFault = fmt.Sprintf("%.2f", r.AttemptsPerCallInFault)
		}
	}
	return []string{r.Scenario, r.Transport, faultYesNo(a.OK), fmt.Sprintf("%d/%d", a.Acknowledged, a.Attempted),
		fmt.Sprint(a.Applied), fmt.Sprint(a.Unknown), fmt.Sprint(a.Lost), fmt.Sprint(a.Duplicated), fmt.Sprint(a.Phantom), fmt.Sprint(a.Replayed),
		codeCounts(r.AttemptErrors), fmt.Sprintf("%.2f", r.RetriesPerCall), attInFault,
		fmt.Sprintf("%d/%d/%d", r.BreakerOpened, r.BreakerClosed, r.BreakerRejected), fmt.Sprintf("%.1f", r.P99Ms), inFault}
}

// faultNotes are the lines printed under the table for r: the audit's
// problems, expected codes not seen, and what the breaker did.
func faultNotes(r FaultResult) []string {
	var out []string
	for _, p := range r.Audit.Problems {
		out = append(out, fmt.Sprintf("%s/%s: %s", r.Scenario, r.Transport, p))
	}
	if r.Error == "" && !r.SawExpected {
		out = append(out, fmt.Sprintf("%s/%s: expected %v on the attempts, saw %s", r.Scenario, r.Transport, r.Expected, codeCounts(r.AttemptErrors)))
	}
	if l, ok := breakerLine(r); ok && r.Error == "" {
		out = append(out, l)
	}
	return out
}

func matrixCell(r FaultResult, ok bool) string {
	switch {
	case !ok:
		return "-"
	case r.Error != "":
		return "error"
	case r.Pass:
		return "ok"
	case !r.Audit.OK:
		return fmt.Sprintf("FAIL lost %d dup %d", r.Audit.Lost, r.Audit.Duplicated)
	}
	return "FAIL codes"
}

func faultContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func faultYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// codeCounts renders counts by code, largest first: "unavailable 12,
// deadline_exceeded 3", or "none".
func codeCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
