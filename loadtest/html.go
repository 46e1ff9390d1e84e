package loadtest

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/igbank/igbank/loadtest/registry"
)

// The HTML report is one self-contained page: the table and hand-written
// inline SVG charts, with no script and nothing fetched, so it can be
// mailed, archived or opened offline. (A chart library would need
// JavaScript or a dependency for four kinds of plot.)

var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1b9e77", "#d95f02", "#7570b3", "#e7298a"}

type xy struct{ x, y float64 }

type series struct {
	name   string
	color  string
	points []xy
	dots   bool // points only, not joined by a line (a scatter plot)
}

const (
	chartW, chartH = 760, 380
	padL, padR     = 70, 190
	padT, padB     = 30, 50
)

type axis struct {
	min, max float64
	log      bool
}

func (a axis) pos(v float64, lo, hi float64) float64 {
	var f float64
	if a.log {
		if v <= 0 {
			v = a.min
		}
		f = (math.Log10(v) - math.Log10(a.min)) / (math.Log10(a.max) - math.Log10(a.min))
	} else {
		f = (v - a.min) / (a.max - a.min)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return lo + f*(hi-lo)
}

func niceAxis(vals []float64, log bool) axis {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if log && v <= 0 {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 1, 10
	}
	if log {
		lo = math.Pow(10, math.Floor(math.Log10(lo)))
		hi = math.Pow(10, math.Ceil(math.Log10(hi)))
		if hi <= lo {
			hi = lo * 10
		}
		return axis{lo, hi, true}
	}
	lo = 0
	if hi <= 0 {
		hi = 1
	}
	step := niceStep(hi / 5)
	hi = math.Ceil(hi/step) * step
	return axis{lo, hi, false}
}

func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func (a axis) ticks() []float64 {
	var t []float64
	if a.log {
		for v := a.min; v <= a.max*1.0001; v *= 10 {
			t = append(t, v)
		}
		return t
	}
	step := niceStep(a.max / 5)
	for v := a.min; v <= a.max*1.0001; v += step {
		t = append(t, v)
	}
	return t
}

func svgOpen(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`, padL, html.EscapeString(title))
}

func legend(b *strings.Builder, ss []series) {
	for i, s := range ss {
		y := padT + 10 + i*18
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12">%s</text>`,
			chartW-padR+15, y-10, s.color, chartW-padR+32, y, html.EscapeString(s.name))
	}
}

// lineChart draws series as lines with points. xTickLabel, if set, names
// the x ticks (used for the percentile axis).
func lineChart(title, xLabel, yLabel string, ss []series, xa, ya axis, xTicks []float64, xTickLabel func(float64) string, yFmt func(float64) string) string {
	return plotChart(title, xLabel, yLabel, ss, xa, ya, xTicks, xTickLabel, yFmt, nil)
}

// plotArea is where a chart's data goes, in SVG coordinates: x0 to x1 left
// to right, y0 (bottom) to y1 (top).
type plotArea struct{ x0, x1, y0, y1 float64 }

// plotChart is lineChart with under, if set, drawing into the plot area
// after the grid and axes and before the series (shaded spans, markers).
func plotChart(title, xLabel, yLabel string, ss []series, xa, ya axis, xTicks []float64, xTickLabel func(float64) string, yFmt func(float64) string, under func(b *strings.Builder, xa, ya axis, p plotArea)) string {
	var b strings.Builder
	svgOpen(&b, title)
	x0, x1 := float64(padL), float64(chartW-padR)
	y0, y1 := float64(chartH-padB), float64(padT)
	for _, t := range ya.ticks() {
		y := ya.pos(t, y0, y1)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%s</text>`, x0, y, x1, y, x0-5, y+4, yFmt(t))
	}
	if xTicks == nil {
		xTicks = xa.ticks()
	}
	for _, t := range xTicks {
		x := xa.pos(t, x0, x1)
		lbl := fmt.Sprint(t)
		if xTickLabel != nil {
			lbl = xTickLabel(t)
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/><text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>`, x, y0, x, y1, x, y0+15, html.EscapeString(lbl))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`, x0, y0, x1, y0, x0, y0, x0, y1)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>`, (x0+x1)/2, chartH-10, html.EscapeString(xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" font-size="12" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`, (y0+y1)/2, (y0+y1)/2, html.EscapeString(yLabel))
	if under != nil {
		under(&b, xa, ya, plotArea{x0, x1, y0, y1})
	}
	for _, s := range ss {
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xa.pos(p.x, x0, x1), ya.pos(p.y, y0, y1)))
		}
		if len(pts) > 1 && !s.dots {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, strings.Join(pts, " "))
		}
		for _, p := range s.points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s</title></circle>`, xa.pos(p.x, x0, x1), ya.pos(p.y, y0, y1), s.color, html.EscapeString(s.name), yFmt(p.y))
		}
	}
	legend(&b, ss)
	b.WriteString("</svg>")
	return b.String()
}

type barRow struct {
	label    string
	values   []float64 // stacked
	min, max float64   // range whisker of the total, if max > 0
}

// barChart draws horizontal bars, stacked by part (parts names each
// stack's colour).
func barChart(title, unit string, parts []string, rows []barRow, valFmt func(float64) string) string {
	var b strings.Builder
	h := padT + 20 + len(rows)*26 + padB
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, chartW, h, chartW, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="10" y="18" font-size="14" font-weight="bold">%s</text>`, html.EscapeString(title))
	left, right := 150.0, float64(chartW-padR)
	var totals []float64
	for _, r := range rows {
		t := 0.0
		for _, v := range r.values {
			t += v
		}
		totals = append(totals, math.Max(t, r.max))
	}
	xa := niceAxis(totals, false)
	for _, t := range xa.ticks() {
		x := xa.pos(t, left, right)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>`, x, padT, x, h-padB+5, x, h-padB+20, valFmt(t))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>`, (left+right)/2, h-10, html.EscapeString(unit))
	for i, r := range rows {
		y := padT + 10 + i*26
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="end">%s</text>`, left-6, y+14, html.EscapeString(r.label))
		x := left
		total := 0.0
		for j, v := range r.values {
			w := xa.pos(v, left, right) - left
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="18" fill="%s"><title>%s %s: %s</title></rect>`, x, y, math.Max(w, 0), palette[j%len(palette)], html.EscapeString(r.label), html.EscapeString(parts[j]), valFmt(v))
			x += w
			total += v
		}
		labelX := x
		if r.max > 0 {
			a, z := xa.pos(r.min, left, right), xa.pos(r.max, left, right)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000"/>`, a, y+9, z, y+9)
			labelX = math.Max(labelX, z)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11">%s</text>`, labelX+4, y+14, valFmt(total))
	}
	if len(parts) > 1 {
		var ss []series
		for j, p := range parts {
			ss = append(ss, series{name: p, color: palette[j%len(palette)]})
		}
		legend(&b, ss)
	}
	b.WriteString("</svg>")
	return b.String()
}

// percentiles plotted on the latency curves, as in HdrHistogram's plots:
// the x axis is 1/(1-q), logarithmic.
var curveQuantiles = []float64{0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999}

func curveX(q float64) float64 { return 1 / (1 - q/100) }

// WriteHTML writes the self-contained HTML report.
func WriteHTML(w io.Writer, r *Report) error {
	var b strings.Builder
	title := "IGBank transports side by side"
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>\n", title)
	b.WriteString(`<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}table{border-collapse:collapse;font-size:12px}.wrap{overflow-x:auto}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}section{margin:2em 0}pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}.note{color:#555;font-size:13px}</style></head><body>`)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<pre>%s</pre>\n", title, html.EscapeString(r.Config.Describe()))
	fmt.Fprintf(&b, "<p class=\"note\">%s, %s/%s, %d CPUs (%s), GOMAXPROCS %d, commit %s, started %s.",
		html.EscapeString(r.Env.GoVersion), r.Env.OS, r.Env.Arch, r.Env.NumCPU, html.EscapeString(r.Env.CPUModel), r.Env.GOMAXPROCS, html.EscapeString(shortCommit(r.Env.Commit)), r.Started.Format("2006-01-02 15:04 MST"))
	for _, l := range r.Env.Limits {
		fmt.Fprintf(&b, " %s.", html.EscapeString(l))
	}
	if r.Interrupted {
		b.WriteString(" <b>Interrupted</b>: what was measured before Ctrl-C.")
	}
	b.WriteString("</p>\n")

	gs := groups(r)
	colors := map[string]string{}
	for _, res := range r.Results {
		if _, ok := colors[res.Transport]; !ok {
			colors[res.Transport] = palette[len(colors)%len(palette)]
		}
	}

	// Table.
	b.WriteString(`<section id="table"><h2>Results</h2>`)
	for _, g := range gs {
		fmt.Fprintf(&b, "<h3>%s</h3><div class=\"wrap\"><table><tr><th>#</th><th>transport</th><th>calls/s</th><th>min–max</th><th>×ref</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>srv µs/call</th><th>cli µs/call</th><th>B/call in</th><th>B/call out</th><th>srv allocs/call</th><th>cli allocs/call</th><th>srv RSS MiB</th><th>errors</th></tr>\n", html.EscapeString(g.label()))
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
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s–%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
				pos, html.EscapeString(res.Transport), fmtRate(s.Throughput.Median), fmtRate(s.Throughput.Min), fmtRate(s.Throughput.Max),
				fmtNum(s.RefRatio.Median, 2), fmtUs(s.P50.Median), fmtUs(s.P90.Median), fmtUs(s.P99.Median), fmtUs(s.P999.Median), fmtUs(s.Max.Max),
				srvCPU, fmtNum(s.ClientCPUPer1k.Median, 1), fmtNum(s.BytesInPerCall.Median, 0), fmtNum(s.BytesOutPerCall.Median, 0),
				srvAllocs, fmtNum(s.ClientAllocsPerCall.Median, 1), rss, html.EscapeString(errorsText(s)))
		}
		b.WriteString("</table></div>\n")
	}
	b.WriteString("</section>\n")

	// Throughput against load.
	b.WriteString(`<section id="throughput" class="chart"><h2>Throughput</h2>`)
	open := r.Config.OpenLoop()
	var ss []series
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
			ss = append(ss, series{name: res.Transport, color: colors[res.Transport]})
		}
		s := &ss[i]
		x := float64(res.Concurrency)
		if open {
			x = res.Rate
		}
		s.points = append(s.points, xy{x, res.Summary.Throughput.Median})
		xs = append(xs, x)
		ys = append(ys, res.Summary.Throughput.Median)
	}
	for i := range ss {
		sort.Slice(ss[i].points, func(a, c int) bool { return ss[i].points[a].x < ss[i].points[c].x })
	}
	xa := niceAxis(xs, true)
	xTicks := uniqueSorted(xs)
	xl := "callers (closed loop)"
	if open {
		xl = "target rate, calls/s (open loop)"
	}
	b.WriteString(lineChart("Throughput (median of rounds) against load", xl, "calls/s", ss, xa, niceAxis(ys, false), xTicks, func(v float64) string { return fmtRate(v) }, fmtRate))
	if len(gs) > 0 {
		g := gs[len(gs)-1]
		var rows []barRow
		for _, res := range g.results {
			s := res.Summary.Throughput
			rows = append(rows, barRow{label: res.Transport, values: []float64{s.Median}, min: s.Min, max: s.Max})
		}
		b.WriteString(barChart("Throughput at "+g.label()+" (bar: median, line: min–max over rounds)", "calls/s", []string{"calls/s"}, rows, fmtRate))
	}
	b.WriteString("</section>\n")

	// Latency percentile curves, one chart per load point.
	b.WriteString(`<section id="latency" class="chart"><h2>Latency percentiles</h2>`)
	if open {
		b.WriteString(`<p class="note">Open loop: latency counted from each call's intended send time, so queueing behind a slow call is not hidden (coordinated omission).</p>`)
	}
	for _, g := range gs {
		var ls []series
		var lys []float64
		for _, res := range g.results {
			h := res.MergedHistogram("all")
			if h == nil || h.TotalCount() == 0 {
				continue
			}
			s := series{name: res.Transport, color: colors[res.Transport]}
			for _, q := range curveQuantiles {
				v := float64(h.ValueAtQuantile(q)) / 1e3
				if v < 1 {
					v = 1
				}
				s.points = append(s.points, xy{curveX(q), v})
				lys = append(lys, v)
			}
			ls = append(ls, s)
		}
		var qx []float64
		for _, q := range []float64{0, 90, 99, 99.9, 99.99, 99.999} {
			qx = append(qx, curveX(q))
		}
		b.WriteString(lineChart("Latency by percentile, all rounds merged, "+g.label(), "percentile", "latency", ls,
			axis{1, curveX(99.999), true}, niceAxis(lys, true), qx, func(x float64) string {
				q := 100 * (1 - 1/x)
				return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", q), "0"), ".") + "%"
			}, fmtUs))
	}
	b.WriteString("</section>\n")

	// CPU per call and bytes per call, at the last load point.
	if len(gs) > 0 {
		g := gs[len(gs)-1]
		var cpu, bytes []barRow
		for _, res := range g.results {
			s := res.Summary
			cpu = append(cpu, barRow{label: res.Transport, values: []float64{s.ServerCPUPer1k.Median, s.ClientCPUPer1k.Median}})
			bytes = append(bytes, barRow{label: res.Transport, values: []float64{s.BytesInPerCall.Median, s.BytesOutPerCall.Median}})
		}
		b.WriteString(`<section id="cpu" class="chart"><h2>CPU per call</h2>`)
		b.WriteString(barChart("CPU time per call at "+g.label()+" (µs = ms per 1000 calls)", "µs of CPU per call", []string{"server", "client (incl. generator)"}, cpu, func(v float64) string { return fmtNum(v, 1) }))
		b.WriteString("</section>\n")
		b.WriteString(`<section id="bytes" class="chart"><h2>Bytes on the wire per call</h2>`)
		b.WriteString(barChart("Bytes per call at "+g.label()+", above TCP", "bytes per call", []string{"client → server", "server → client"}, bytes, func(v float64) string { return fmtNum(v, 0) }))
		b.WriteString("</section>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
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
