package report

import (
	"fmt"
	"html"
	"io"
	"math"
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

// WriteHTML writes the self-contained HTML report: the tables, under a
// heading per setting (network, statement rows, security, churn) when the
// run varied one; throughput; latency and achieved rate against load
// when the run swept it; the costs of a statement against its rows when
// the run seeded several sizes; a comparison across each other dimension
// the run varied; latency percentiles; CPU and bytes per call.
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
	sets := settings(r, gs)
	colors := map[string]string{}
	for _, res := range r.Results {
		if _, ok := colors[res.Transport]; !ok {
			colors[res.Transport] = chart.Color(len(colors))
		}
	}
	// heading heads the part of a section about one setting, when there
	// is more than one.
	heading := func(st setting) {
		if len(sets) > 1 {
			p.Printf("<h3>%s</h3>", html.EscapeString(st.label()))
		}
	}

	// Tables, under a heading per setting.
	p.WriteString(`<section id="table"><h2>Results</h2>`)
	for _, st := range sets {
		heading(st)
		for _, g := range st.groups {
			if len(sets) > 1 {
				p.Printf("<h4>%s</h4>", html.EscapeString(g.loadLabel()))
			} else {
				p.Printf("<h3>%s</h3>", html.EscapeString(g.label()))
			}
			writeGroupTable(p, r, g)
		}
	}
	p.WriteString(`<p class="note">calls/s: successful calls per second; err %: failed calls over all calls. ×ref: successful calls/s over the bare TCP ping-pong's in the same round (–: no reference).</p>`)
	p.WriteString("</section>\n")

	// Throughput at each setting's last load point.
	p.WriteString(`<section id="throughput" class="chart"><h2>Throughput</h2>`)
	for _, st := range sets {
		g := st.groups[len(st.groups)-1]
		var rows []chart.Bar
		for _, res := range g.results {
			s := res.Summary.Successful
			rows = append(rows, chart.Bar{Label: barLabel(res), Values: []float64{s.Median}, Min: s.Min, Max: s.Max})
		}
		p.WriteString(chart.Bars{Title: "Successful calls/s at " + g.label() + " (bar: median, line: min–max over rounds)", Unit: "successful calls/s", Parts: []string{"calls/s"}, Rows: rows, Format: chart.FormatRate}.SVG())
	}
	p.WriteString("</section>\n")

	writeLoadSection(p, r, sets, colors)
	writeRowsSection(p, r, gs, colors)
	for _, d := range categorical {
		writeDimensionSection(p, r, gs, d)
	}

	// Latency percentile curves, one chart per load point.
	p.WriteString(`<section id="latency" class="chart"><h2>Latency percentiles</h2>`)
	if r.Config.OpenLoop() {
		p.WriteString(`<p class="note">Open loop: latency counted from each call's intended send time, so queueing behind a slow call is not hidden (coordinated omission).</p>`)
	}
	for _, st := range sets {
		heading(st)
		for _, g := range st.groups {
			writeCurves(p, g, colors)
		}
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

// barLabel names a result on a bar chart, saying when it failed: its bar
// of 0 is not a measurement.
func barLabel(res *bench.Result) string {
	if res.Summary.Failed {
		return res.Transport + " (FAILED)"
	}
	return res.Transport
}

// setting is the load points of one network, statement size, security
// mode and churn: what a sweep of load draws as one line per transport.
type setting struct {
	groupKey // without its load
	naming
	groups []group // in run order
}

func (st setting) label() string {
	if l := (group{groupKey: st.groupKey, naming: st.naming}).settingLabel(); l != "" {
		return l
	}
	return "plaintext, connections kept"
}

// settings splits the load points of r by setting, ordered by network
// (as the run listed them), then by statement rows, then as they ran:
// the page reads as a heading per network.
func settings(r *bench.Report, gs []group) []setting {
	var out []setting
	idx := map[groupKey]int{}
	for _, g := range gs {
		k := g.setting()
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, setting{groupKey: k, naming: g.naming})
		}
		out[i].groups = append(out[i].groups, g)
	}
	nets := map[string]int{}
	for i, n := range r.Config.Networks {
		if _, ok := nets[n]; !ok {
			nets[n] = i
		}
	}
	netIndex := func(n string) int {
		if i, ok := nets[n]; ok {
			return i
		}
		return len(nets)
	}
	sort.SliceStable(out, func(a, b int) bool {
		na, nb := netIndex(out[a].network), netIndex(out[b].network)
		if na != nb {
			return na < nb
		}
		return out[a].groupKey.rows < out[b].groupKey.rows
	})
	return out
}

// loadX is a result's place on the load axis: the offered rate (open
// loop) or the callers (closed).
func loadX(res *bench.Result) float64 {
	if res.Rate > 0 {
		return res.Rate
	}
	return float64(res.Concurrency)
}

// xAxis is the axis of the values xs: logarithmic when they are all
// positive and span a factor of ten or more (a sweep of load, or of
// statement sizes, grows by factors), linear otherwise; ticked at xs.
func xAxis(xs []float64) (chart.Axis, []float64) {
	u := uniqueSorted(xs)
	if len(u) > 0 && u[0] > 0 && u[len(u)-1]/u[0] >= 10 {
		return chart.NiceAxis(u, true), u
	}
	return chart.NiceAxis(u, false), u
}

// sortPoints puts each series' points in the order of x.
func sortPoints(ss []chart.Series) {
	for i := range ss {
		sort.Slice(ss[i].Points, func(a, c int) bool { return ss[i].Points[a].X < ss[i].Points[c].X })
	}
}

// writeLoadSection draws, for each setting the run swept the load of,
// latency against load (p50 dashed, p99 solid: where the curve turns up,
// the transport is saturated) beside what it achieved: successful calls
// per second against the offered rate, with the line where they are
// equal (open loop), or against the callers (closed loop). Points that
// failed have no latency and are left out of the latency chart.
func writeLoadSection(p *page.Page, r *bench.Report, sets []setting, colors map[string]string) {
	var swept []setting
	for _, st := range sets {
		if len(st.groups) > 1 {
			swept = append(swept, st)
		}
	}
	if len(swept) == 0 {
		return
	}
	open := r.Config.OpenLoop()
	xl := "callers (closed loop)"
	if open {
		xl = "offered calls/s (open loop)"
	}
	p.WriteString(`<section id="load" class="chart"><h2>Latency and throughput against load</h2>`)
	for _, st := range swept {
		if len(sets) > 1 {
			p.Printf("<h3>%s</h3>", html.EscapeString(st.label()))
		}
		var lat, got []chart.Series
		latIdx, gotIdx := map[string]int{}, map[string]int{}
		var xs, lys, gys []float64
		for _, g := range st.groups {
			for _, res := range g.results {
				x, s := loadX(res), res.Summary
				xs = append(xs, x)
				i, ok := gotIdx[res.Transport]
				if !ok {
					i = len(got)
					gotIdx[res.Transport] = i
					got = append(got, chart.Series{Name: res.Transport, Color: colors[res.Transport]})
				}
				got[i].Points = append(got[i].Points, chart.Point{X: x, Y: s.Successful.Median})
				gys = append(gys, s.Successful.Median)
				if s.Failed {
					continue
				}
				j, ok := latIdx[res.Transport]
				if !ok {
					j = len(lat)
					latIdx[res.Transport] = j
					lat = append(lat,
						chart.Series{Name: res.Transport + " p50", Color: colors[res.Transport], Dash: "5 4"},
						chart.Series{Name: res.Transport + " p99", Color: colors[res.Transport]})
				}
				lat[j].Points = append(lat[j].Points, chart.Point{X: x, Y: math.Max(s.P50.Median, 1)})
				lat[j+1].Points = append(lat[j+1].Points, chart.Point{X: x, Y: math.Max(s.P99.Median, 1)})
				lys = append(lys, math.Max(s.P50.Median, 1), math.Max(s.P99.Median, 1))
			}
		}
		sortPoints(lat)
		sortPoints(got)
		xa, ticks := xAxis(xs)
		where := ""
		if len(sets) > 1 {
			where = ", " + st.label()
		}
		latency := chart.Lines{Title: "p50 (dashed) and p99 against load" + where, XLabel: xl, YLabel: "latency", Series: lat,
			X: xa, Y: chart.NiceAxis(lys, true), XTicks: ticks, XTickLabel: chart.FormatRate, YFormat: chart.FormatMicros}
		achieved := chart.Lines{Title: "Successful calls/s against load" + where, XLabel: xl, YLabel: "successful calls/s", Series: got,
			X: xa, Y: chart.NiceAxis(gys, false), XTicks: ticks, XTickLabel: chart.FormatRate, YFormat: chart.FormatRate}
		if open {
			// Offered and achieved on one scale, so that the diagonal is
			// where every offered call succeeded.
			both := chart.NiceAxis(append(append([]float64(nil), xs...), gys...), xa.Log)
			achieved.Title = "Successful against offered calls/s" + where
			achieved.X, achieved.Y = both, both
			achieved.Marks = []chart.Mark{chart.Diagonal{Color: "#888", Label: "all offered served"}}
		}
		p.Pair(func() { p.WriteString(latency.SVG()) }, func() { p.WriteString(achieved.SVG()) })
	}
	p.WriteString("</section>\n")
}

// writeRowsSection draws, when the run seeded statements of several
// sizes, what a call costs against the rows: bytes from the server,
// server CPU and allocations per call, and p50, one line per transport,
// at each load point and setting. The mix's other calls are in the
// figures too: the slope is the statement's.
func writeRowsSection(p *page.Page, r *bench.Report, gs []group, colors map[string]string) {
	type rest struct {
		groupKey
		groups []group
	}
	var rests []*rest
	idx := map[groupKey]*rest{}
	for _, g := range gs {
		k := g.groupKey
		k.rows = 0
		if idx[k] == nil {
			idx[k] = &rest{groupKey: k}
			rests = append(rests, idx[k])
		}
		idx[k].groups = append(idx[k].groups, g)
	}
	var varied []*rest
	for _, rs := range rests {
		if len(rs.groups) > 1 {
			varied = append(varied, rs)
		}
	}
	if len(varied) == 0 {
		return
	}
	p.WriteString(`<section id="rows" class="chart"><h2>Payload size: statement rows</h2>`)
	p.WriteString(`<p class="note">The transactions seeded in the statement month; a statement reads pages of them. The figures are of the whole mix.</p>`)
	nm := namingOf(r.Config)
	type figure struct {
		title, unit string
		y           func(*bench.Result) (float64, bool)
		format      func(float64) string
		log         bool
	}
	srvOwn := func(res *bench.Result) bool {
		return len(res.Samples) > 0 && res.Samples[0].ServerOwnProc && !res.Samples[0].ServerLate
	}
	figures := []figure{
		{"Bytes per call, server → client", "bytes per call", func(res *bench.Result) (float64, bool) {
			return res.Summary.BytesOutPerCall.Median, true
		}, func(v float64) string { return fmtNum(v, 0) }, true},
		{"Server CPU per call", "µs of CPU per call", func(res *bench.Result) (float64, bool) {
			return res.Summary.ServerCPUPer1k.Median, srvOwn(res)
		}, func(v float64) string { return fmtNum(v, 1) }, false},
		{"Server allocations per call", "allocations per call", func(res *bench.Result) (float64, bool) {
			return res.Summary.ServerAllocsPerCall.Median, srvOwn(res)
		}, func(v float64) string { return fmtNum(v, 1) }, false},
		{"p50 latency", "latency", func(res *bench.Result) (float64, bool) {
			return math.Max(res.Summary.P50.Median, 1), true
		}, chart.FormatMicros, true},
	}
	for _, rs := range varied {
		g := group{groupKey: rs.groupKey, naming: nm}
		where := g.loadLabel()
		if l := g.settingLabelWithout("rows"); l != "" {
			where += ", " + l
		}
		p.Printf("<h3>%s</h3>", html.EscapeString(where))
		var svgs []string
		for _, f := range figures {
			var ss []chart.Series
			si := map[string]int{}
			var xs, ys []float64
			for _, g := range rs.groups {
				for _, res := range g.results {
					y, ok := f.y(res)
					if !ok || res.Summary.Failed {
						continue
					}
					i, seen := si[res.Transport]
					if !seen {
						i = len(ss)
						si[res.Transport] = i
						ss = append(ss, chart.Series{Name: res.Transport, Color: colors[res.Transport]})
					}
					x := float64(res.StatementRows)
					ss[i].Points = append(ss[i].Points, chart.Point{X: x, Y: y})
					xs, ys = append(xs, x), append(ys, y)
				}
			}
			if len(ss) == 0 {
				continue
			}
			sortPoints(ss)
			xa, ticks := xAxis(xs)
			svgs = append(svgs, chart.Lines{Title: f.title + " against statement rows, " + where, XLabel: "statement rows", YLabel: f.unit, Series: ss,
				X: xa, Y: chart.NiceAxis(ys, f.log), XTicks: ticks, XTickLabel: func(v float64) string { return fmtCount(uint64(v)) }, YFormat: f.format}.SVG())
		}
		for i := 0; i < len(svgs); i += 2 {
			if i+1 < len(svgs) {
				a, b := svgs[i], svgs[i+1]
				p.Pair(func() { p.WriteString(a) }, func() { p.WriteString(b) })
			} else {
				p.WriteString(svgs[i])
			}
		}
	}
	p.WriteString("</section>\n")
}

// dimension is a dimension of the run whose values have no order (a
// network, a security mode, churn): the page compares its values side
// by side at each point of the others.
type dimension struct {
	id, title string
	value     func(groupKey) string
	without   func(groupKey) groupKey
}

var categorical = []dimension{
	{"network", "Network", func(k groupKey) string { return k.network }, func(k groupKey) groupKey { k.network = ""; return k }},
	{"security", "Security", func(k groupKey) string { return k.security }, func(k groupKey) groupKey { k.security = ""; return k }},
	{"churn", "Connections kept or churned", func(k groupKey) string {
		if k.churn {
			return "new connection per call"
		}
		return "connections kept"
	}, func(k groupKey) groupKey { k.churn = false; return k }},
}

// writeDimensionSection draws, when the run varied d, each transport's
// successful calls/s and p99 under each value of d, side by side, at
// every point of the other dimensions.
func writeDimensionSection(p *page.Page, r *bench.Report, gs []group, d dimension) {
	values := map[string]bool{}
	for _, g := range gs {
		values[d.value(g.groupKey)] = true
	}
	if len(values) < 2 {
		return
	}
	type rest struct {
		groupKey
		groups []group
	}
	var rests []*rest
	idx := map[groupKey]*rest{}
	for _, g := range gs {
		k := d.without(g.groupKey)
		if idx[k] == nil {
			idx[k] = &rest{groupKey: k}
			rests = append(rests, idx[k])
		}
		idx[k].groups = append(idx[k].groups, g)
	}
	p.Printf(`<section id="%s" class="chart"><h2>%s</h2>`, d.id, html.EscapeString(d.title))
	nm := namingOf(r.Config)
	for _, rs := range rests {
		if len(rs.groups) < 2 {
			continue
		}
		g := group{groupKey: rs.groupKey, naming: nm}
		where := g.loadLabel()
		if l := g.settingLabelWithout(d.id); l != "" {
			where += ", " + l
		}
		var order []string
		by := map[string][]*bench.Result{}
		for _, g := range rs.groups {
			for _, res := range g.results {
				if by[res.Transport] == nil {
					order = append(order, res.Transport)
				}
				by[res.Transport] = append(by[res.Transport], res)
			}
		}
		var calls, p99 []chart.Bar
		for _, t := range order {
			for _, res := range by[t] {
				label := barLabel(res) + " · " + d.value(keyOf(res))
				s := res.Summary
				calls = append(calls, chart.Bar{Label: label, Values: []float64{s.Successful.Median}, Min: s.Successful.Min, Max: s.Successful.Max})
				if !s.Failed {
					p99 = append(p99, chart.Bar{Label: label, Values: []float64{s.P99.Median}})
				}
			}
		}
		p.Printf("<h3>%s</h3>", html.EscapeString(where))
		p.Pair(func() {
			p.WriteString(chart.Bars{Title: "Successful calls/s by " + strings.ToLower(d.title) + ", " + where, Unit: "successful calls/s", Parts: []string{"calls/s"}, Rows: calls, Format: chart.FormatRate}.SVG())
		}, func() {
			p.WriteString(chart.Bars{Title: "p99 by " + strings.ToLower(d.title) + ", " + where, Unit: "p99 latency", Parts: []string{"p99"}, Rows: p99, Format: chart.FormatMicros}.SVG())
		})
	}
	p.WriteString("</section>\n")
}

// writeCurves draws the latency percentile curves of one load point, all
// rounds merged.
func writeCurves(p *page.Page, g group, colors map[string]string) {
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
