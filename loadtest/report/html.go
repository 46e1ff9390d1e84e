package report

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/page"
)

// percentiles plotted on the latency curves, as in HdrHistogram's plots:
// the x axis is 1/(1-q), logarithmic.
var curveQuantiles = []float64{0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999}

func curveX(q float64) float64 { return 1 / (1 - q/100) }

// WriteHTML writes the self-contained HTML report: the table, and
// charts of throughput against load, latency percentiles, CPU and bytes
// per call.
func WriteHTML(w io.Writer, r *bench.Report) error {
	p := page.New("IGBank transports side by side")
	p.Printf("<pre>%s</pre>\n", html.EscapeString(r.Config.Describe()))
	p.Printf("<p class=\"note\">%s, %s/%s, %d CPUs (%s), GOMAXPROCS %d, commit %s, started %s.",
		html.EscapeString(r.Env.GoVersion), r.Env.OS, r.Env.Arch, r.Env.NumCPU, html.EscapeString(r.Env.CPUModel), r.Env.GOMAXPROCS, html.EscapeString(r.Env.ShortCommit()), r.Started.Format("2006-01-02 15:04 MST"))
	for _, l := range r.Env.Limits {
		p.Printf(" %s.", html.EscapeString(l))
	}
	if r.Interrupted {
		p.WriteString(" <b>Interrupted</b>: what was measured before Ctrl-C.")
	}
	p.WriteString("</p>\n")

	gs := groups(r)
	colors := map[string]string{}
	for _, res := range r.Results {
		if _, ok := colors[res.Transport]; !ok {
			colors[res.Transport] = chart.Color(len(colors))
		}
	}

	// Table.
	p.WriteString(`<section id="table"><h2>Results</h2>`)
	for _, g := range gs {
		p.Printf("<h3>%s</h3>", html.EscapeString(g.label()))
		writeGroupTable(p, r, g)
	}
	p.WriteString(`<p class="note">calls/s: successful calls per second; err %: failed calls over all calls. ×ref: successful calls/s over the bare TCP ping-pong's in the same round (–: no reference).</p>`)
	p.WriteString("</section>\n")

	// Throughput against load.
	p.WriteString(`<section id="throughput" class="chart"><h2>Throughput</h2>`)
	open := r.Config.OpenLoop()
	var ss []chart.Series
	var xs, ys []float64
	byName := map[string]int{}
	for _, res := range r.Results {
		if len(res.Samples) == 0 {
			continue
		}
		i, ok := byName[res.Transport]
		if !ok {
			i = len(ss)
			byName[res.Transport] = i
			ss = append(ss, chart.Series{Name: res.Transport, Color: colors[res.Transport]})
		}
		s := &ss[i]
		x := float64(res.Concurrency)
		if open {
			x = res.Rate
		}
		s.Points = append(s.Points, chart.Point{X: x, Y: res.Summary.Throughput.Median})
		xs = append(xs, x)
		ys = append(ys, res.Summary.Throughput.Median)
	}
	for i := range ss {
		sort.Slice(ss[i].Points, func(a, c int) bool { return ss[i].Points[a].X < ss[i].Points[c].X })
	}
	xl := "callers (closed loop)"
	if open {
		xl = "target rate, calls/s (open loop)"
	}
	p.WriteString(chart.Lines{Title: "Throughput (median of rounds) against load", XLabel: xl, YLabel: "calls/s", Series: ss,
		X: chart.NiceAxis(xs, true), Y: chart.NiceAxis(ys, false), XTicks: uniqueSorted(xs), XTickLabel: chart.FormatRate, YFormat: chart.FormatRate}.SVG())
	if len(gs) > 0 {
		g := gs[len(gs)-1]
		var rows []chart.Bar
		for _, res := range g.results {
			s := res.Summary.Throughput
			rows = append(rows, chart.Bar{Label: res.Transport, Values: []float64{s.Median}, Min: s.Min, Max: s.Max})
		}
		p.WriteString(chart.Bars{Title: "Throughput at " + g.label() + " (bar: median, line: min–max over rounds)", Unit: "calls/s", Parts: []string{"calls/s"}, Rows: rows, Format: chart.FormatRate}.SVG())
	}
	p.WriteString("</section>\n")

	// Latency percentile curves, one chart per load point.
	p.WriteString(`<section id="latency" class="chart"><h2>Latency percentiles</h2>`)
	if open {
		p.WriteString(`<p class="note">Open loop: latency counted from each call's intended send time, so queueing behind a slow call is not hidden (coordinated omission).</p>`)
	}
	for _, g := range gs {
		var ls []chart.Series
		var lys []float64
		for _, res := range g.results {
			h := res.MergedHistogram("all")
			if h == nil || h.TotalCount() == 0 {
				continue
			}
			s := chart.Series{Name: res.Transport, Color: colors[res.Transport]}
			for _, q := range curveQuantiles {
				v := float64(h.ValueAtQuantile(q)) / 1e3
				if v < 1 {
					v = 1
				}
				s.Points = append(s.Points, chart.Point{X: curveX(q), Y: v})
				lys = append(lys, v)
			}
			ls = append(ls, s)
		}
		var qx []float64
		for _, q := range []float64{0, 90, 99, 99.9, 99.99, 99.999} {
			qx = append(qx, curveX(q))
		}
		p.WriteString(chart.Lines{Title: "Latency by percentile, all rounds merged, " + g.label(), XLabel: "percentile", YLabel: "latency", Series: ls,
			X: chart.Axis{Min: 1, Max: curveX(99.999), Log: true}, Y: chart.NiceAxis(lys, true), XTicks: qx,
			XTickLabel: func(x float64) string {
				q := 100 * (1 - 1/x)
				return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", q), "0"), ".") + "%"
			}, YFormat: chart.FormatMicros}.SVG())
	}
	p.WriteString("</section>\n")

	// CPU per call and bytes per call, at the last load point.
	if len(gs) > 0 {
		g := gs[len(gs)-1]
		var cpu, bytes []chart.Bar
		for _, res := range g.results {
			s := res.Summary
			cpu = append(cpu, chart.Bar{Label: res.Transport, Values: []float64{s.ServerCPUPer1k.Median, s.ClientCPUPer1k.Median}})
			bytes = append(bytes, chart.Bar{Label: res.Transport, Values: []float64{s.BytesInPerCall.Median, s.BytesOutPerCall.Median}})
		}
		p.WriteString(`<section id="cpu" class="chart"><h2>CPU per call</h2>`)
		p.WriteString(chart.Bars{Title: "CPU time per call at " + g.label() + " (µs = ms per 1000 calls)", Unit: "µs of CPU per call", Parts: []string{"server", "client (incl. generator)"}, Rows: cpu, Format: func(v float64) string { return fmtNum(v, 1) }}.SVG())
		p.WriteString("</section>\n")
		p.WriteString(`<section id="bytes" class="chart"><h2>Bytes on the wire per call</h2>`)
		p.WriteString(chart.Bars{Title: "Bytes per call at " + g.label() + ", above TCP", Unit: "bytes per call", Parts: []string{"client → server", "server → client"}, Rows: bytes, Format: func(v float64) string { return fmtNum(v, 0) }}.SVG())
		p.WriteString("</section>\n")
	}
	return p.Finish(w)
}

func uniqueSorted(xs []float64) []float64 {
	m := map[float64]bool{}
	var out []float64
	for _, x := range xs {
		if !m[x] {
			m[x] = true
			out = append(out, x)
		}
	}
	sort.Float64s(out)
	return out
}

// writeGroupTable writes the table of one load point: a row per result,
// ranked, and for a result that failed, one cell saying so across its
// figures.
func writeGroupTable(p *page.Page, r *bench.Report, g group) {
	cols := columns(r, g, true)
	p.Wide(func() {
		p.WriteString("<table><tr><th>#</th>")
		for i, col := range cols {
			if i == 0 {
				p.Printf("<th class=\"l\">%s</th>", html.EscapeString(col.head))
				continue
			}
			p.Printf("<th>%s</th>", html.EscapeString(col.head))
		}
		p.WriteString("</tr>\n")
		for i, res := range g.results {
			p.Printf("<tr><td>%s</td>", g.ranks()[i])
			said := false
			for j := 0; j < len(cols); j++ {
				col := cols[j]
				switch {
				case j == 0:
					p.Printf("<td class=\"l\">%s</td>", html.EscapeString(col.cell(res)))
				case !col.figure || !res.Summary.Failed:
					p.Printf("<td>%s</td>", html.EscapeString(col.cell(res)))
				default:
					n := 1
					for j+n < len(cols) && cols[j+n].figure {
						n++
					}
					text := "–"
					if !said {
						text, said = failedText, true
					}
					p.Printf("<td class=\"fail\" colspan=\"%d\">%s</td>", n, text)
					j += n - 1
				}
			}
			p.WriteString("</tr>\n")
		}
		p.WriteString("</table>")
	})
	if n := g.connNote(); n != "" {
		p.Printf("<p class=\"note\">%s</p>", html.EscapeString(n))
	}
	p.WriteString("\n")
}
