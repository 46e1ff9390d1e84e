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
	"github.com/igbank/igbank/loadtest/registry"
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
		p.Wide(func() {
			p.WriteString("<table><tr><th>#</th><th class=\"l\">transport</th><th>calls/s</th><th>min–max</th><th>×ref</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>srv µs/call</th><th>cli µs/call</th><th>B/call in</th><th>B/call out</th><th>srv allocs/call</th><th>cli allocs/call</th><th>srv RSS MiB</th><th>errors</th></tr>\n")
			rank := 0
			for _, res := range g.results {
				s := res.Summary
				pos := "-"
				if res.Transport != registry.ReferenceName && !strings.HasPrefix(res.Transport, registry.ReferenceName+" ") {
					rank++
					pos = fmt.Sprint(rank)
				}
				srvCPU, srvAllocs, rss := "-", "-", "-"
				if len(res.Samples) > 0 && res.Samples[0].ServerOwnProc {
					srvCPU, srvAllocs, rss = fmtNum(s.ServerCPUPer1k.Median, 1), fmtNum(s.ServerAllocsPerCall.Median, 1), fmtNum(s.ServerRSSMiB.Median, 0)
					if s.ServerRSSMiB.Max == 0 {
						rss = "n/a" // not read on this OS
					}
				}
				p.Printf("<tr><td>%s</td><td class=\"l\">%s</td><td>%s</td><td>%s–%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
					pos, html.EscapeString(res.Transport), chart.FormatRate(s.Throughput.Median), chart.FormatRate(s.Throughput.Min), chart.FormatRate(s.Throughput.Max),
					fmtNum(s.RefRatio.Median, 2), chart.FormatMicros(s.P50.Median), chart.FormatMicros(s.P90.Median), chart.FormatMicros(s.P99.Median), chart.FormatMicros(s.P999.Median), chart.FormatMicros(s.Max.Max),
					srvCPU, fmtNum(s.ClientCPUPer1k.Median, 1), fmtNum(s.BytesInPerCall.Median, 0), fmtNum(s.BytesOutPerCall.Median, 0),
					srvAllocs, fmtNum(s.ClientAllocsPerCall.Median, 1), rss, html.EscapeString(errorsText(s)))
			}
			p.WriteString("</table>")
		})
		p.WriteString("\n")
	}
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
