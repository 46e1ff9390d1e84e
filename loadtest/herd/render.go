package herd

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/page"
)

// WriteText writes the summary table.
func WriteText(w io.Writer, r *Report) error {
	bucket := time.Duration(r.BucketMs * float64(time.Millisecond))
	fmt.Fprintf(w, "%d clients on %s, one Balance each at the start of a %v outage; attempts per %v bucket.\nPolicy: %s.\n",
		r.Clients, r.Transport, time.Duration(r.OutageMs*float64(time.Millisecond)), bucket, r.Policy)
	if r.Capacity > 0 {
		fmt.Fprintf(w, "Once back, the server answers at most %d calls per %v and sheds the rest with Unavailable.\n", r.Capacity, bucket)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "jitter\tsucceeded\tattempts\tserver calls\tshed\tmax/client\tpeak\tpeak retries\tpeak after recovery\tdrain ms\t")
	for _, x := range r.Runs {
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t\n", x.Jitter, x.Succeeded, x.Clients, x.Attempts, x.ServerCalls, x.Shed, x.MaxAttempts, x.Peak, x.PeakRetries, x.PeakRecovery, x.DrainMs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, x := range r.Runs {
		for code, n := range x.Errors {
			fmt.Fprintf(w, "jitter %s: %d calls failed with %s\n", x.Jitter, n, code)
		}
	}
	return nil
}

// attemptsChart draws attempts per bucket, one line per jitter mode, and a
// dashed line where the server came back.
func attemptsChart(r *Report) string {
	var ss []chart.Series
	var xs, ys []float64
	for i, x := range r.Runs {
		s := chart.Series{Name: "jitter " + x.Jitter, Color: chart.Color(i)}
		for b, n := range x.Buckets {
			s.Points = append(s.Points, chart.Point{X: float64(b) * r.BucketMs, Y: float64(n)})
			xs = append(xs, float64(b)*r.BucketMs)
			ys = append(ys, float64(n))
		}
		ss = append(ss, s)
	}
	return chart.Lines{
		Title:  fmt.Sprintf("Attempts per %g ms, %d clients, %g ms outage (%s)", r.BucketMs, r.Clients, r.OutageMs, r.Transport),
		XLabel: "time since the outage began (ms)", YLabel: "attempts started", Series: ss,
		X: chart.NiceAxis(xs, false), Y: chart.NiceAxis(ys, false),
		YFormat: func(v float64) string { return fmt.Sprintf("%.0f", v) },
		Marks:   []chart.Mark{chart.Rule{At: r.OutageMs, Color: "#000", Label: "server back"}},
	}.SVG()
}

// WriteHTML writes a self-contained page: the table and the chart.
func WriteHTML(w io.Writer, r *Report) error {
	p := page.New("Backoff and jitter: a herd of clients against a recovering server")
	var text strings.Builder
	WriteText(&text, r)
	p.Printf("<pre>%s</pre>\n", html.EscapeString(text.String()))
	p.Printf("<p class=\"note\">%s, %s/%s, %d CPUs (%s), commit %s, started %s. Peak: most attempts in one bucket (the first bucket holds every client's first attempt, whatever the jitter); peak after recovery: from the end of the outage on. Drain: until the last client succeeded.</p>\n",
		html.EscapeString(r.Env.GoVersion), r.Env.OS, r.Env.Arch, r.Env.NumCPU, html.EscapeString(r.Env.CPUModel), html.EscapeString(r.Env.ShortCommit()), r.Started.Format("2006-01-02 15:04 MST"))
	p.Printf("<section id=\"herd-chart\">%s</section>\n", attemptsChart(r))
	return p.Finish(w)
}

// WriteJSON writes the report as JSON: the figures and the buckets.
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
		return nil, fmt.Errorf("a saved %q run, not a herd run", r.Kind)
	}
	if r.Format != Format {
		return nil, fmt.Errorf("herd run of format %d, this program reads %d", r.Format, Format)
	}
	return &r, nil
}
