package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/chart"
)

// WriteComparison writes two runs side by side: for every transport and
// load point in both, the median successful calls per second and the
// error rate, p99 and server CPU per call of each, and the change from a
// to b.
func WriteComparison(w io.Writer, a, b *bench.Report, nameA, nameB string) error {
	fmt.Fprintf(w, "A: %s (%s, %s)\nB: %s (%s, %s)\n", nameA, a.Started.Format(time.RFC3339), a.Env.ShortCommit(), nameB, b.Started.Format(time.RFC3339), b.Env.ShortCommit())
	type key struct {
		t string
		groupKey
	}
	bm := map[key]*bench.Result{}
	for _, r := range b.Results {
		bm[key{r.Transport, keyOf(r)}] = r
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "transport\tload\tcalls/s A\tcalls/s B\tΔ\terr % A\terr % B\t×ref A\t×ref B\tp99 A\tp99 B\tΔ\tsrv µs/call A\tsrv µs/call B\tΔ")
	delta := func(x, y float64) string {
		if x == 0 {
			return "-"
		}
		return fmt.Sprintf("%+.1f%%", (y-x)/x*100)
	}
	for _, g := range groups(a) {
		for _, ra := range g.results {
			rb := bm[key{ra.Transport, keyOf(ra)}]
			if rb == nil {
				continue
			}
			sa, sb := ra.Summary, rb.Summary
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ra.Transport, g.label(),
				chart.FormatRate(sa.Successful.Median), chart.FormatRate(sb.Successful.Median), delta(sa.Successful.Median, sb.Successful.Median),
				fmtErrRate(sa.ErrorRate), fmtErrRate(sb.ErrorRate),
				fmtRef(refRatio(ra)), fmtRef(refRatio(rb)),
				chart.FormatMicros(sa.P99.Median), chart.FormatMicros(sb.P99.Median), delta(sa.P99.Median, sb.P99.Median),
				fmtNum(sa.ServerCPUPer1k.Median, 1), fmtNum(sb.ServerCPUPer1k.Median, 1), delta(sa.ServerCPUPer1k.Median, sb.ServerCPUPer1k.Median))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\ncalls/s: successful calls per second.")
	fmt.Fprintln(w, "On a shared machine a single run swings by up to 2×; compare ×ref (each run's own reference) before raw calls/s.")
	return nil
}

// Merge returns a report holding the results of a and b, with each
// transport's name suffixed, so that one HTML page can show both runs.
func Merge(a, b *bench.Report, tagA, tagB string) *bench.Report {
	m := *a
	m.Results = nil
	for _, r := range a.Results {
		c := *r
		c.Transport += " " + tagA
		m.Results = append(m.Results, &c)
	}
	for _, r := range b.Results {
		c := *r
		c.Transport += " " + tagB
		m.Results = append(m.Results, &c)
	}
	return &m
}
