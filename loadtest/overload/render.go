package overload

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/page"
)

// Describe is the experiment's header: what the servers were and what
// the clients did.
func (c Config) Describe() string {
	return fmt.Sprintf("Every server has a backend of %d workers at %v a call (%s calls/s at most; it serves calls whose caller gave up, too).\n"+
		"Open loop, latency from the intended send time; every call has a %v deadline; %v warm-up + %v measured per point.\n"+
		"Shedding on: -max-calls %d -call-queue %d (common/shed): what cannot be served in time is refused at once as unavailable.",
		c.Backend.Slots, c.Backend.Time, chart.FormatRate(c.Backend.Capacity()), c.Timeout, c.Warmup, c.Duration, c.MaxCalls, c.Queue)
}

// WriteText writes the header and one table row per point.
func WriteText(w io.Writer, r *Report) error {
	fmt.Fprintln(w, r.Config.Describe())
	for _, t := range r.Config.Transports {
		if capa, ok := r.Capacity[t]; ok {
			fmt.Fprintf(w, "capacity through %s: %.0f calls/s\n", t, capa)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "transport\tshedding\toffered\t×capacity\tgoodput\tp50 ms\tp99 ms\tshed\tfailed\tlate\t")
	for _, p := range r.Points {
		fmt.Fprintf(tw, "%s\t%s\t%.0f/s\t%.1f\t%.0f/s\t%s\t%s\t%d\t%d\t%d\t\n", p.Transport, onOff(p.Shedding), p.Offered, p.Multiple, p.Goodput,
			ms(p.P50, p.Goodput), ms(p.P99, p.Goodput), p.Shed, p.Failed, p.Late)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "goodput: successful calls/s; p50, p99: of the successful calls; shed: refused (unavailable); failed: other errors (deadline exceeded: the caller gave up)")
	return nil
}

func ms(us, goodput float64) string {
	if goodput == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", us/1000)
}

// charts draws goodput and p99 against the offered load, a line per
// transport and mode: solid with shedding, dashed without.
func charts(r *Report) (goodput, p99 string) {
	var gs, ps []chart.Series
	var xs, gys, pys []float64
	for i, t := range r.Config.Transports {
		for _, shedding := range r.Config.Modes {
			name := t + ", shedding " + onOff(shedding)
			g := chart.Series{Name: name, Color: chart.Color(i)}
			p := g
			if !shedding {
				g.Dash, p.Dash = "5 4", "5 4"
			}
			for _, pt := range r.Points {
				if pt.Transport != t || pt.Shedding != shedding {
					continue
				}
				xs = append(xs, pt.Offered)
				g.Points = append(g.Points, chart.Point{X: pt.Offered, Y: pt.Goodput})
				gys = append(gys, pt.Goodput, pt.Offered)
				if pt.Goodput > 0 {
					p.Points = append(p.Points, chart.Point{X: pt.Offered, Y: pt.P99})
					pys = append(pys, pt.P99)
				}
			}
			gs, ps = append(gs, g), append(ps, p)
		}
	}
	goodput = chart.Lines{
		Title: "Goodput against offered load", XLabel: "offered load (calls/s)", YLabel: "successful calls/s", Series: gs,
		X: chart.NiceAxis(xs, false), Y: chart.NiceAxis(append(gys, 0), false),
		YFormat: chart.FormatRate, XTickLabel: chart.FormatRate,
	}.SVG()
	p99 = chart.Lines{
		Title: "p99 latency of the successful calls against offered load", XLabel: "offered load (calls/s)", YLabel: "p99 (log scale)", Series: ps,
		X: chart.NiceAxis(xs, false), Y: chart.NiceAxis(pys, true),
		YFormat: chart.FormatMicros, XTickLabel: chart.FormatRate,
	}.SVG()
	return goodput, p99
}

// WriteHTML writes a self-contained page: the table and the two charts.
func WriteHTML(w io.Writer, r *Report) error {
	p := page.New("Overload: goodput and p99 past capacity, without and with load shedding")
	var text strings.Builder
	WriteText(&text, r)
	p.Printf("<pre>%s</pre>\n", html.EscapeString(text.String()))
	p.Printf("<p class=\"note\">%s, %s/%s, %d CPUs (%s), commit %s, started %s. Dashed: shedding off; solid: on.</p>\n",
		html.EscapeString(r.Env.GoVersion), r.Env.OS, r.Env.Arch, r.Env.NumCPU, html.EscapeString(r.Env.CPUModel), html.EscapeString(r.Env.ShortCommit()), r.Started.Format("2006-01-02 15:04 MST"))
	g, l := charts(r)
	p.Printf("<section id=\"goodput\">%s</section>\n<section id=\"p99\">%s</section>\n", g, l)
	return p.Finish(w)
}

// WriteJSON writes the report as JSON.
func WriteJSON(w io.Writer, r *Report) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// Decode reads a report saved by WriteJSON.
func Decode(data []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if r.Kind != Kind {
		return nil, fmt.Errorf("a saved %q run, not an overload experiment", r.Kind)
	}
	if r.Format != Format {
		return nil, fmt.Errorf("overload experiment of format %d, this program reads %d", r.Format, Format)
	}
	return &r, nil
}
