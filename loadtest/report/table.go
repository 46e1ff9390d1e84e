package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/registry"
)

// group is the results of one load point (a concurrency or a rate, in a
// security mode, with connections kept or churned).
type group struct {
	conc     int
	rate     float64
	security string
	churn    bool
	results  []*bench.Result
}

func (g group) label() string {
	l := fmt.Sprintf("concurrency %d", g.conc)
	if g.rate > 0 {
		l = fmt.Sprintf("rate %s/s", strconv.FormatFloat(g.rate, 'f', -1, 64))
	}
	if (g.security != "" && g.security != bench.SecurityPlain) || g.churn {
		sec := g.security
		if sec == "" {
			sec = bench.SecurityPlain
		}
		l += ", " + bench.DescribeSecurity(sec, g.churn)
	}
	return l
}

// groupKey identifies the load point of a result.
type groupKey struct {
	conc     int
	rate     float64
	security string
	churn    bool
}

// groups splits the results by load point, in run order, each ranked:
// the reference first, then by median throughput (closed loop) or by
// median p99 (open loop).
func groups(r *bench.Report) []group {
	var gs []group
	idx := map[groupKey]int{}
	for _, res := range r.Results {
		if len(res.Samples) == 0 {
			continue // not reached before an interrupt
		}
		k := groupKey{res.Concurrency, res.Rate, res.Security, res.Churn}
		i, ok := idx[k]
		if !ok {
			i = len(gs)
			idx[k] = i
			gs = append(gs, group{conc: res.Concurrency, rate: res.Rate, security: res.Security, churn: res.Churn})
		}
		gs[i].results = append(gs[i].results, res)
	}
	for _, g := range gs {
		sort.SliceStable(g.results, func(a, b int) bool {
			ra, rb := g.results[a], g.results[b]
			if (ra.Transport == registry.ReferenceName) != (rb.Transport == registry.ReferenceName) {
				return ra.Transport == registry.ReferenceName
			}
			if g.rate > 0 {
				return ra.Summary.P99.Median < rb.Summary.P99.Median
			}
			return ra.Summary.Throughput.Median > rb.Summary.Throughput.Median
		})
	}
	return gs
}

func fmtNum(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }

func errorsText(s bench.Summary) string {
	if s.Errors == 0 {
		return "0"
	}
	codes := make([]string, 0, len(s.ErrorsByCode))
	for c, n := range s.ErrorsByCode {
		codes = append(codes, fmt.Sprintf("%s:%d", c, n))
	}
	sort.Strings(codes)
	return strings.Join(codes, " ")
}

// WriteTable writes the side-by-side table, one per load point.
func WriteTable(w io.Writer, r *bench.Report) error {
	c := r.Config
	fmt.Fprintf(w, "%s\n", c.Describe())
	fmt.Fprintf(w, "%s, %s/%s, %d CPUs (%s), GOMAXPROCS %d", r.Env.GoVersion, r.Env.OS, r.Env.Arch, r.Env.NumCPU, r.Env.CPUModel, r.Env.GOMAXPROCS)
	if r.Env.Commit != "" {
		fmt.Fprintf(w, ", commit %.12s", r.Env.Commit)
	}
	fmt.Fprintln(w)
	for _, l := range r.Env.Limits {
		fmt.Fprintln(w, l)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: the figures are of what was measured before Ctrl-C")
	}
	open := c.OpenLoop()
	for _, g := range groups(r) {
		fmt.Fprintf(w, "\n%s — median of rounds [min–max]\n", g.label())
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		hdr := "#\ttransport\tcalls/s [min–max]\t×ref\tp50\tp90\tp99 [min–max]\tp99.9\tmax\tsrv µs/call\tcli µs/call\tB/call in/out\tallocs/call srv/cli\tsrv RSS\terrors"
		if open {
			hdr += "\tlate\tunsent"
		}
		if c.Resilience {
			hdr += "\tretries/call\tbreaker chg"
		}
		fmt.Fprintln(tw, hdr)
		rank := 0
		for _, res := range g.results {
			s := res.Summary
			pos := "-"
			if res.Transport != registry.ReferenceName {
				rank++
				pos = strconv.Itoa(rank)
			}
			ratio := "-"
			if s.RefRatio.Median > 0 {
				ratio = fmtNum(s.RefRatio.Median, 2)
			}
			srvCPU, srvAllocs, rss := "-", "-", "-"
			if len(res.Samples) > 0 && res.Samples[0].ServerOwnProc {
				srvCPU = fmtNum(s.ServerCPUPer1k.Median, 1)
				srvAllocs = fmtNum(s.ServerAllocsPerCall.Median, 1)
				rss = fmtNum(s.ServerRSSMiB.Median, 0) + " MiB"
				if s.ServerRSSMiB.Max == 0 {
					rss = "n/a" // not read on this OS
				}
			}
			line := fmt.Sprintf("%s\t%s\t%s [%s–%s]\t%s\t%s\t%s\t%s [%s–%s]\t%s\t%s\t%s\t%s\t%s/%s\t%s/%s\t%s\t%s",
				pos, res.Transport,
				chart.FormatRate(s.Throughput.Median), chart.FormatRate(s.Throughput.Min), chart.FormatRate(s.Throughput.Max), ratio,
				chart.FormatMicros(s.P50.Median), chart.FormatMicros(s.P90.Median),
				chart.FormatMicros(s.P99.Median), chart.FormatMicros(s.P99.Min), chart.FormatMicros(s.P99.Max),
				chart.FormatMicros(s.P999.Median), chart.FormatMicros(s.Max.Max),
				srvCPU, fmtNum(s.ClientCPUPer1k.Median, 1),
				fmtNum(s.BytesInPerCall.Median, 0), fmtNum(s.BytesOutPerCall.Median, 0),
				srvAllocs, fmtNum(s.ClientAllocsPerCall.Median, 1),
				rss, errorsText(s))
			if open {
				line += fmt.Sprintf("\t%d\t%d", s.Late, s.Unsent)
			}
			if c.Resilience {
				line += fmt.Sprintf("\t%s\t%d", fmtNum(s.RetriesPerCall.Median, 3), s.BreakerChanges)
			}
			fmt.Fprintln(tw, line)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\n×ref: throughput over the bare TCP ping-pong's in the same round. CPU µs/call = ms per 1000 calls, from each process's own accounting.")
	if c.InProcess {
		fmt.Fprintln(w, "Servers ran in the generator's process: server CPU, allocations and memory cannot be told apart from the client's (shown under cli).")
	}
	return nil
}
