package faults

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/page"
)

// Colours of the fault report: the outcomes of calls and the breaker's
// states.
const (
	colOK       = "#4e79a7"
	colUnavail  = "#e15759"
	colFailFast = "#f28e2b"
	colOther    = "#b07aa1"
	colFault    = "#e15759"
	colOpen     = "#b2182b"
	colHalfOpen = "#9c755f"
	colClosed   = "#1b9e77"
	colDup      = "#3b0a45"
	pageTitle   = "IGBank partial failures: delivery guarantees, scenario × transport"
	legendText  = "A cell passes when it shows what its delivery guarantee predicts. exactly-once (retries, keys kept): every acknowledged deposit applied once, none twice, none invented, the expected codes seen (and every deposit acknowledged where the scenario says so). at-least-once (retries, keys ignored): every acknowledged deposit applied, and where the fault loses responses some applied twice (\"dup N, expected\"). at-most-once (one attempt): none applied twice, and deposits whose answer was lost left unacknowledged (\"unacked N, expected\"). FAIL: an outcome the guarantee does not predict."
)

func stateColor(s string) string {
	switch s {
	case "open":
		return colOpen
	case "half-open":
		return colHalfOpen
	}
	return colClosed
}

// WriteHTML writes the fault matrix as a self-contained page: the
// matrix, the table of every cell, and the timeline of every cell's
// calls (the outage's with the breaker's figures).
func WriteHTML(w io.Writer, results []Result) error {
	p := page.New(pageTitle)
	p.Printf("<section id=\"matrix\"><h2>Delivery guarantees</h2><p class=\"note\">%s</p>", html.EscapeString(legendText))
	p.Wide(func() { matrixHTML(p, results) })
	p.WriteString("</section>\n")

	// Every cell.
	p.WriteString(`<section id="cells"><h2>What the client saw</h2>`)
	p.Wide(func() {
		p.WriteString("<table><tr>")
		for i, h := range columns {
			p.Printf("<th%s>%s</th>", textClass(i), html.EscapeString(h))
		}
		p.WriteString("</tr>\n")
		for _, r := range results {
			if r.Error != "" {
				p.Printf("<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td class=\"l\" colspan=\"%d\">error: %s</td></tr>\n",
					html.EscapeString(r.Scenario), html.EscapeString(r.Transport), len(columns)-2, html.EscapeString(r.Error))
				continue
			}
			p.WriteString("<tr>")
			for i, v := range cellRow(r) {
				class := textClass(i)
				if i == 2 && v != "yes" {
					class = ` class="fail"`
				}
				p.Printf("<td%s>%s</td>", class, html.EscapeString(v))
			}
			p.WriteString("</tr>\n")
		}
		p.WriteString("</table>")
	})
	var notes []string
	for _, r := range results {
		notes = append(notes, cellNotes(r)...)
	}
	if len(notes) > 0 {
		p.Printf("<pre>%s</pre>", html.EscapeString(strings.Join(notes, "\n")))
	}
	p.WriteString("<p class=\"note\">Attempt errors are those of single attempts, by code (breaker_fail_fast: failed at once by the open or half-open breaker, never sent). Attempts per call count the breaker's fail-fasts; in fault: over the calls that started while the fault was on. p99 in fault: of those calls' latencies, retries included.</p></section>\n")

	// The timelines: the outage's open, with the breaker's figures; every
	// other scenario's folded, one chart per cell.
	if slices.ContainsFunc(results, hasTimeline) {
		p.WriteString(`<section id="outage"><h2>Circuit breaker through an outage</h2><p class="note">` + outageNote + `</p>`)
		for _, r := range results {
			if hasTimeline(r) {
				p.Printf("<h3>%s (%s)</h3>\n%s\n%s\n", html.EscapeString(r.Transport), r.Delivery(), timelineChart(r), outageFigures(r))
			}
		}
		p.WriteString("</section>\n")
	}
	scen, _, _ := grid(results)
	first := true
	for _, sc := range scen {
		var cells []Result
		for _, r := range results {
			if r.Scenario == sc && r.Scenario != "outage" && r.Error == "" && len(r.Timeline) > 0 {
				cells = append(cells, r)
			}
		}
		if len(cells) == 0 {
			continue
		}
		if first {
			p.WriteString(`<section id="timelines"><h2>Every call over time</h2><p class="note">` + timelineNote + `</p>`)
			first = false
		}
		p.Printf("<details><summary>%s</summary>\n", html.EscapeString(sc))
		for _, r := range cells {
			p.Printf("<h3>%s (%s): %s</h3>\n%s\n", html.EscapeString(r.Transport), r.Delivery(), html.EscapeString(r.Verdict), timelineChart(r))
		}
		p.WriteString("</details>\n")
	}
	if !first {
		p.WriteString("</section>\n")
	}
	return p.Finish(w)
}

const outageNote = "Each dot is one logical deposit: when it started (x) and how long it took, retries included (y, logarithmic). The shaded span is the outage (the proxy disabled: connections refused); the vertical lines are the breaker's transitions, labelled with the state it went to."

// hasTimeline says whether r gets an outage timeline on the page.
func hasTimeline(r Result) bool {
	return r.Scenario == "outage" && r.Error == "" && len(r.Timeline) > 0
}

// textClass is the class attribute of column i of the table of cells:
// the transport and the attempt errors are text.
func textClass(i int) string {
	if i <= 2 || i == 11 {
		return ` class="l"`
	}
	return ""
}

// matrixHTML writes the matrix, scenario × transport, as a table.
func matrixHTML(p *page.Page, results []Result) {
	scen, trs, cell := grid(results)
	p.WriteString("<table><tr><th class=\"l\">scenario</th>")
	for _, t := range trs {
		p.Printf("<th>%s</th>", html.EscapeString(t))
	}
	p.WriteString("</tr>\n")
	for _, s := range scen {
		p.Printf("<tr><td class=\"l\">%s</td>", html.EscapeString(s))
		for _, t := range trs {
			r, ok := cell[[2]string{s, t}]
			class := "fail"
			switch {
			case !ok:
				class = "err"
			case r.Error != "":
				class = "err"
			case r.Pass:
				class = "ok"
			}
			title := ""
			if ok {
				title = fmt.Sprintf("lost %d, duplicated %d, attempt errors: %s", r.Audit.Lost, r.Audit.Duplicated, codeCounts(r.AttemptErrors))
				if r.Error != "" {
					title = r.Error
				}
			}
			counts := ""
			if ok && r.Error == "" {
				counts = fmt.Sprintf("<br><small>lost %d · dup %d</small>", r.Audit.Lost, r.Audit.Duplicated)
			}
			p.Printf("<td class=\"%s\" title=\"%s\">%s%s</td>", class, html.EscapeString(title), html.EscapeString(cellText(r, ok)), counts)
		}
		p.WriteString("</tr>\n")
	}
	p.WriteString("</table>")
}

// timelineNote explains the timeline charts.
const timelineNote = "Each dot is one logical deposit: when it started (x) and how long it took, retries included (y, logarithmic), coloured by what its client learned: acknowledged, outcome unknown (unavailable or deadline exceeded: applied or not, the client cannot tell), failed with a definite error, or failed fast by the open breaker. A dark dot drawn over a call marks a deposit the ledger holds twice or more: a duplicate. The shaded spans are the fault's windows; the vertical lines, the breaker's transitions."

// timelineChart draws r's calls over time, coloured by outcome, the
// duplicated ones ringed, with the fault windows shaded and the
// breaker's transitions marked.
func timelineChart(r Result) string {
	out := []chart.Series{
		{Name: "acknowledged", Color: colOK, Dots: true},
		{Name: "outcome unknown", Color: colUnavail, Dots: true},
		{Name: "failed fast (breaker)", Color: colFailFast, Dots: true},
		{Name: "failed (definite)", Color: colOther, Dots: true},
		{Name: "applied twice or more", Color: colDup, Dots: true},
	}
	xs := []float64{0, r.ElapsedMs}
	var ys []float64
	for _, c := range r.Timeline {
		y := math.Max(c.LatencyMs, 0.001)
		p := chart.Point{X: c.StartMs, Y: y}
		out[outcomeSeries(c)].Points = append(out[outcomeSeries(c)].Points, p)
		if c.Applied > 1 {
			out[4].Points = append(out[4].Points, p)
		}
		xs = append(xs, c.StartMs)
		ys = append(ys, y)
	}
	var ss []chart.Series
	for _, s := range out {
		if len(s.Points) > 0 {
			ss = append(ss, s)
		}
	}
	// Legend only: the shading and the markers.
	ss = append(ss, chart.Series{Name: "fault on", Color: "#f6d5d5"},
		chart.Series{Name: "| breaker → open", Color: colOpen},
		chart.Series{Name: "| → half-open", Color: colHalfOpen},
		chart.Series{Name: "| → closed", Color: colClosed})
	var marks []chart.Mark
	for _, win := range r.FaultWindows {
		marks = append(marks, chart.Span{From: win[0], To: win[1], Color: colFault, Title: fmt.Sprintf("fault on %.0f–%.0f ms", win[0], win[1])})
	}
	marks = append(marks, transitionMarks(r.Transitions))
	return chart.Lines{
		Title:  fmt.Sprintf("%s over %s: %d deposits, latency of each by start time", r.Scenario, r.Transport, len(r.Timeline)),
		XLabel: "time since the run started (ms)", YLabel: "call latency", Series: ss,
		X: chart.NiceAxis(xs, false), Y: chart.NiceAxis(ys, true),
		XTickLabel: func(v float64) string { return fmt.Sprintf("%.0f", v) },
		YFormat:    func(v float64) string { return chart.FormatMicros(v * 1000) },
		Marks:      marks,
	}.SVG()
}

// outcomeSeries is the series of timelineChart a call belongs to.
func outcomeSeries(c CallRecord) int {
	switch {
	case c.Code == "ok":
		return 0
	case c.FailedFast:
		return 2
	}
	if code, ok := bank.ParseCode(c.Code); ok && audit.OutcomeOf(bank.FromCode(code, "")) == audit.Failed {
		return 3
	}
	return 1
}

// transitionMarks marks the breaker's transitions on a timeline: a dashed
// line each, in the colour of the state it went to, and a label along it;
// transitions a few pixels apart share one label.
type transitionMarks []Transition

func (ts transitionMarks) Draw(c *chart.Canvas) {
	type mark struct {
		x     float64
		label string
	}
	var marks []mark
	for _, t := range ts {
		x := c.X(t.AtMs)
		c.VLine(x, stateColor(t.To), 1.5, "4 3", fmt.Sprintf("%.1f ms: %s → %s", t.AtMs, t.From, t.To))
		if n := len(marks); n > 0 && x-marks[n-1].x < 11 {
			marks[n-1].label += " → " + t.To
			continue
		}
		marks = append(marks, mark{x, fmt.Sprintf("%.0f ms: %s → %s", t.AtMs, t.From, t.To)})
	}
	for _, m := range marks {
		c.Text(m.x+10, c.Top+3, 10, "end", true, m.label)
	}
}

// outageFigures is the table under an outage chart.
func outageFigures(r Result) string {
	f, opened := breakerFigures(r)
	rows := [][2]string{}
	for _, win := range r.FaultWindows {
		rows = append(rows, [2]string{"outage (proxy disabled)", fmt.Sprintf("%.0f – %.0f ms", win[0], win[1])})
	}
	if !opened {
		rows = append(rows, [2]string{"breaker", "never opened"})
	} else {
		closed := "did not close again"
		if f.ClosedMs > 0 {
			closed = fmt.Sprintf("%.0f ms", f.ClosedMs)
		}
		rows = append(rows,
			[2]string{"breaker opened at", fmt.Sprintf("%.0f ms", f.OpenedMs)},
			[2]string{"breaker closed at", closed},
			[2]string{"times opened (first + after failed probes)", fmt.Sprint(f.Opens)},
			[2]string{"half-open probes", fmt.Sprint(f.HalfOpenProbes)},
			[2]string{"calls failed fast by the breaker", fmt.Sprint(f.FailedFast)},
			[2]string{"fail-fast latency (median of those calls)", chart.FormatMicros(f.FailFastP50Ms * 1000)})
	}
	rows = append(rows,
		[2]string{"calls started during the outage", fmt.Sprint(r.FaultCalls)},
		[2]string{"attempts per call during the outage (mean, max)", fmt.Sprintf("%.2f, %d", r.AttemptsPerCallInFault, f.MaxAttemptsInFault)},
		[2]string{"attempts per call over the run", fmt.Sprintf("%.2f", r.AttemptsPerCall)},
		[2]string{"p99 latency of the calls started during the outage", chart.FormatMicros(r.FaultP99Ms * 1000)},
		[2]string{"final errors", codeCounts(r.FinalErrors)})
	var b strings.Builder
	b.WriteString(`<table class="figures">`)
	for _, row := range rows {
		fmt.Fprintf(&b, "<tr><td class=\"l\">%s</td><td>%s</td></tr>", html.EscapeString(row[0]), html.EscapeString(row[1]))
	}
	b.WriteString("</table>")
	return b.String()
}
