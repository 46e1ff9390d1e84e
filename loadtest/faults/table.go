package faults

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the matrix, scenario × transport, then one line
// per cell with what the client saw, then the audit's problems and what
// the breaker did.
func WriteTable(w io.Writer, results []Result) {
	scen, trs, cell := grid(results)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "delivery"
	if len(trs) > 0 && len(results) > 0 && trs[0] == results[0].Transport {
		head = results[0].Delivery() // one guarantee for every cell
	}
	fmt.Fprintf(tw, "%s\t%s\t\n", head, strings.Join(trs, "\t"))
	for _, s := range scen {
		row := []string{s}
		for _, t := range trs {
			r, ok := cell[[2]string{s, t}]
			row = append(row, cellText(r, ok))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t\n", strings.Join(columns, "\t"))
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\terror: %s\t\n", r.Scenario, r.Transport, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(cellRow(r), "\t"))
	}
	tw.Flush()
	for _, r := range results {
		for _, n := range cellNotes(r) {
			fmt.Fprintln(w, n)
		}
	}
}

// grid lists the scenarios and the columns of results in order of
// appearance, and the cell of each pair. A column is a transport, or,
// when the results ran under several delivery guarantees, a transport
// under one guarantee ("raw at-most-once").
func grid(results []Result) (scen, cols []string, cell map[[2]string]Result) {
	mixed := false
	for _, r := range results {
		mixed = mixed || r.Delivery() != results[0].Delivery()
	}
	cell = map[[2]string]Result{}
	for _, r := range results {
		col := r.Transport
		if mixed {
			col += " " + r.Delivery()
		}
		if !slices.Contains(scen, r.Scenario) {
			scen = append(scen, r.Scenario)
		}
		if !slices.Contains(cols, col) {
			cols = append(cols, col)
		}
		cell[[2]string{r.Scenario, col}] = r
	}
	return scen, cols, cell
}

// columns head the table of cells, in the terminal and the HTML page.
var columns = []string{"scenario", "transport", "delivery", "once", "acked", "applied", "unknown", "lost", "dup", "phantom", "replayed",
	"attempt errors", "retries/call", "attempts/call in fault", "breaker open/close/rejected", "p99 ms", "p99 ms in fault"}

// cellRow is r's row of the table of cells (r.Error empty).
func cellRow(r Result) []string {
	a := r.Audit
	inFault, attInFault := "-", "-"
	if r.FaultCalls > 0 {
		inFault = fmt.Sprintf("%.1f", r.FaultP99Ms)
		if r.AttemptsPerCallInFault > 0 {
			attInFault = fmt.Sprintf("%.2f", r.AttemptsPerCallInFault)
		}
	}
	return []string{r.Scenario, r.Transport, r.Delivery(), yesNo(a.OK), fmt.Sprintf("%d/%d", a.Acknowledged, a.Attempted),
		fmt.Sprint(a.Applied), fmt.Sprint(a.Unknown), fmt.Sprint(a.Lost), fmt.Sprint(a.Duplicated), fmt.Sprint(a.Phantom), fmt.Sprint(a.Replayed),
		codeCounts(r.AttemptErrors), fmt.Sprintf("%.2f", r.RetriesPerCall), attInFault,
		fmt.Sprintf("%d/%d/%d", r.BreakerOpened, r.BreakerClosed, r.BreakerRejected), fmt.Sprintf("%.1f", r.P99Ms), inFault}
}

// cellNotes are the lines printed under the table for r: its verdict,
// the audit's problems (the first few; where the cell passed, the
// duplicates it was expected to show) and what the breaker did.
func cellNotes(r Result) []string {
	var out []string
	if r.Error == "" && r.Verdict != "" {
		out = append(out, fmt.Sprintf("%s/%s (%s): %s", r.Scenario, r.Transport, r.Delivery(), r.Verdict))
	}
	for _, p := range r.Audit.Problems {
		out = append(out, fmt.Sprintf("%s/%s: %s", r.Scenario, r.Transport, p))
	}
	if l, ok := breakerLine(r); ok && r.Error == "" {
		out = append(out, l)
	}
	return out
}

func cellText(r Result, ok bool) string {
	switch {
	case !ok:
		return "-"
	case r.Error != "":
		return "error"
	case r.Pass && r.Audit.Duplicated > 0:
		return fmt.Sprintf("dup %d, expected", r.Audit.Duplicated)
	case r.Pass && r.NoRetry && r.Audit.Acknowledged < r.Audit.Attempted:
		return fmt.Sprintf("unacked %d, expected", r.Audit.Attempted-r.Audit.Acknowledged)
	case r.Pass:
		return "ok"
	case !r.Audit.OK:
		return fmt.Sprintf("FAIL lost %d dup %d", r.Audit.Lost, r.Audit.Duplicated)
	}
	return "FAIL codes"
}

func yesNo(b bool) string {
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
