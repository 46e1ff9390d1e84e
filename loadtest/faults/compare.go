package faults

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/igbank/igbank/loadtest/page"
)

// WriteComparison writes two fault runs side by side, such as keys on
// against keys off: what each run was, then for every scenario and
// transport in either, the outcome in each and the audit's and the
// client's figures as A|B.
func WriteComparison(w io.Writer, a, b []Result, nameA, nameB string) error {
	fmt.Fprintf(w, "A: %s (%s)\nB: %s (%s)\n\n", nameA, setup(a), nameB, setup(b))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t\n", strings.Join(compareColumns, "\t"))
	for _, row := range compareRows(a, b) {
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nA|B: the figure in A, then in B; - where a run has no such cell or it ended in an error.")
	return nil
}

// compareColumns head the table of WriteComparison, in the terminal and
// the HTML page.
var compareColumns = []string{"scenario", "transport", "A", "B", "acked A|B", "applied A|B", "unknown A|B", "lost A|B", "dup A|B", "replayed A|B",
	"attempts/call A|B", "p99 ms A|B"}

// compareRows are the rows of the comparison: one per scenario and
// transport, in the order of a and then of the cells only b has.
func compareRows(a, b []Result) [][]string {
	type key [2]string
	var keys []key
	ca, cb := map[key]Result{}, map[key]Result{}
	for _, x := range []struct {
		results []Result
		cells   map[key]Result
	}{{a, ca}, {b, cb}} {
		for _, r := range x.results {
			k := key{r.Scenario, r.Transport}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
			x.cells[k] = r
		}
	}
	var rows [][]string
	for _, k := range keys {
		ra, okA := ca[k]
		rb, okB := cb[k]
		pair := func(f func(Result) string) string {
			side := func(r Result, ok bool) string {
				if !ok || r.Error != "" {
					return "-"
				}
				return f(r)
			}
			return side(ra, okA) + "|" + side(rb, okB)
		}
		num := func(f func(Result) int) string { return pair(func(r Result) string { return fmt.Sprint(f(r)) }) }
		rows = append(rows, []string{k[0], k[1], cellText(ra, okA), cellText(rb, okB),
			num(func(r Result) int { return r.Audit.Acknowledged }),
			num(func(r Result) int { return r.Audit.Applied }),
			num(func(r Result) int { return r.Audit.Unknown }),
			num(func(r Result) int { return r.Audit.Lost }),
			num(func(r Result) int { return r.Audit.Duplicated }),
			num(func(r Result) int { return r.Audit.Replayed }),
			pair(func(r Result) string { return fmt.Sprintf("%.2f", r.AttemptsPerCall) }),
			pair(func(r Result) string { return fmt.Sprintf("%.1f", r.P99Ms) }),
		})
	}
	return rows
}

// setup says how a run was made: whether the server honoured keys, and
// whether the clients had a retry budget and a breaker (the crash
// scenarios' patient clients never have them, so they do not count).
func setup(results []Result) string {
	onOff := func(f func(Result) bool, skipCrashes bool) string {
		seen := map[bool]bool{}
		for _, r := range results {
			if s, ok := LookupScenario(r.Scenario); skipCrashes && ok && s.run != nil {
				continue
			}
			seen[f(r)] = true
		}
		switch {
		case len(seen) > 1:
			return "mixed"
		case seen[true]:
			return "on"
		case seen[false]:
			return "off"
		}
		return "-"
	}
	return fmt.Sprintf("idempotency keys %s, retry budget %s, breaker %s",
		onOff(func(r Result) bool { return !r.IgnoreKeys }, false),
		onOff(func(r Result) bool { return !r.NoBudget }, true),
		onOff(func(r Result) bool { return !r.NoBreaker }, true))
}

// WriteComparisonHTML writes two fault runs side by side as a
// self-contained page: their matrices, the table of WriteComparison, and
// the timeline of every cell, A beside B.
func WriteComparisonHTML(w io.Writer, a, b []Result, nameA, nameB string) error {
	p := page.New("IGBank partial failures: two runs side by side")
	p.Printf("<pre>A: %s (%s)\nB: %s (%s)</pre>\n", html.EscapeString(nameA), setup(a), html.EscapeString(nameB), setup(b))
	p.Printf("<section id=\"matrix\"><h2>Delivery guarantees</h2><p class=\"note\">%s</p>", html.EscapeString(legendText))
	p.Pair(func() {
		p.Printf("<h3>A: %s</h3>", html.EscapeString(nameA))
		p.Wide(func() { matrixHTML(p, a) })
	}, func() {
		p.Printf("<h3>B: %s</h3>", html.EscapeString(nameB))
		p.Wide(func() { matrixHTML(p, b) })
	})
	p.WriteString("</section>\n")

	p.WriteString(`<section id="cells"><h2>What the client saw, A|B</h2>`)
	p.Wide(func() {
		p.WriteString("<table><tr>")
		for i, h := range compareColumns {
			p.Printf("<th%s>%s</th>", compareClass(i, h), html.EscapeString(h))
		}
		p.WriteString("</tr>\n")
		for _, row := range compareRows(a, b) {
			p.WriteString("<tr>")
			for i, v := range row {
				p.Printf("<td%s>%s</td>", compareClass(i, v), html.EscapeString(v))
			}
			p.WriteString("</tr>\n")
		}
		p.WriteString("</table>")
	})
	p.WriteString("<p class=\"note\">A|B: the figure in A, then in B; - where a run has no such cell or it ended in an error.</p></section>\n")

	// The timelines of every cell, A beside B: the outage's open, with
	// the breaker's figures, every other scenario's folded.
	type key [2]string
	var keys []key
	timelines := func(results []Result) map[key]Result {
		m := map[key]Result{}
		for _, r := range results {
			if r.Error == "" && len(r.Timeline) > 0 {
				k := key{r.Scenario, r.Transport}
				m[k] = r
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
		return m
	}
	ta, tb := timelines(a), timelines(b)
	pair := func(k key) {
		side := func(name string, m map[key]Result) func() {
			return func() {
				p.Printf("<h4>%s</h4>\n", html.EscapeString(name))
				r, ok := m[k]
				if !ok {
					p.WriteString(`<p class="note">No timeline of this cell.</p>`)
					return
				}
				p.Printf("<p class=\"note\">%s: %s</p>\n%s\n", r.Delivery(), html.EscapeString(r.Verdict), timelineChart(r))
				if k[0] == "outage" {
					p.WriteString(outageFigures(r))
				}
			}
		}
		p.Printf("<h3>%s over %s</h3>\n", html.EscapeString(k[0]), html.EscapeString(k[1]))
		p.Pair(side("A: "+nameA, ta), side("B: "+nameB, tb))
	}
	var scen []string
	for _, k := range keys {
		if !slices.Contains(scen, k[0]) {
			scen = append(scen, k[0])
		}
	}
	if slices.ContainsFunc(keys, func(k key) bool { return k[0] == "outage" }) {
		p.WriteString(`<section id="outage"><h2>Circuit breaker through an outage, A beside B</h2><p class="note">` + outageNote + `</p>`)
		for _, k := range keys {
			if k[0] == "outage" {
				pair(k)
			}
		}
		p.WriteString("</section>\n")
	}
	if slices.ContainsFunc(scen, func(sc string) bool { return sc != "outage" }) {
		p.WriteString(`<section id="timelines"><h2>Every call over time, A beside B</h2><p class="note">` + timelineNote + `</p>`)
		for _, sc := range scen {
			if sc == "outage" {
				continue
			}
			p.Printf("<details><summary>%s</summary>\n", html.EscapeString(sc))
			for _, k := range keys {
				if k[0] == sc {
					pair(k)
				}
			}
			p.WriteString("</details>\n")
		}
		p.WriteString("</section>\n")
	}
	return p.Finish(w)
}

// compareClass is the class attribute of a cell of the comparison table
// in column i: the names are text, the outcomes coloured.
func compareClass(i int, v string) string {
	switch {
	case i <= 1:
		return ` class="l"`
	case i > 3:
		return ""
	case v == "ok":
		return ` class="ok"`
	case strings.HasPrefix(v, "FAIL"):
		return ` class="fail"`
	case v == "A" || v == "B":
		return ""
	}
	return ` class="err"`
}
