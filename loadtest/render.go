package loadtest

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/igbank/igbank/loadtest/chart"
	"github.com/igbank/igbank/loadtest/registry"
)

// ReadReport reads a report written by -json.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("%s: report version %d, this program reads %d", path, r.Version, ReportVersion)
	}
	for _, res := range r.Results {
		res.Summarize()
	}
	return &r, nil
}

// WriteJSON writes the report with everything in it.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(r)
}

// group is the results of one load point (a concurrency or a rate).
type group struct {
	conc    int
	rate    float64
	results []*Result
}

func (g group) label() string {
	if g.rate > 0 {
		return fmt.Sprintf("rate %s/s", strconv.FormatFloat(g.rate, 'f', -1, 64))
	}
	return fmt.Sprintf("concurrency %d", g.conc)
}

// groups splits the results by load point, in run order, each ranked:
// the reference first, then by median throughput (closed loop) or by
// median p99 (open loop).
func groups(r *Report) []group {
	var gs []group
	idx := map[[2]float64]int{}
	for _, res := range r.Results {
		if len(res.Samples) == 0 {
			continue // not reached before an interrupt
		}
		k := [2]float64{float64(res.Concurrency), res.Rate}
		i, ok := idx[k]
		if !ok {
			i = len(gs)
			idx[k] = i
			gs = append(gs, group{conc: res.Concurrency, rate: res.Rate})
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

func fmtRate(x float64) string { return chart.FormatRate(x) }

func fmtUs(us float64) string { return chart.FormatMicros(us) }

func fmtNum(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }

func errorsText(s Summary) string {
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
func WriteTable(w io.Writer, r *Report) error {
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
				fmtRate(s.Throughput.Median), fmtRate(s.Throughput.Min), fmtRate(s.Throughput.Max), ratio,
				fmtUs(s.P50.Median), fmtUs(s.P90.Median),
				fmtUs(s.P99.Median), fmtUs(s.P99.Min), fmtUs(s.P99.Max),
				fmtUs(s.P999.Median), fmtUs(s.Max.Max),
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

// CSVHeader is the header row of WriteCSV.
var CSVHeader = []string{"transport", "concurrency", "rate", "connections", "rounds",
	"throughput_median", "throughput_min", "throughput_max", "ref_ratio",
	"p50_us", "p90_us", "p99_us", "p99_min_us", "p99_max_us", "p999_us", "max_us",
	"server_cpu_us_per_call", "client_cpu_us_per_call", "bytes_in_per_call", "bytes_out_per_call",
	"server_allocs_per_call", "client_allocs_per_call", "server_rss_mib",
	"calls", "errors", "late", "unsent", "retries_per_call", "breaker_changes"}

// WriteCSV writes one row per transport and load point, with medians over
// the rounds.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, res := range r.Results {
		if len(res.Samples) == 0 {
			continue
		}
		s := res.Summary
		cw.Write([]string{res.Transport, strconv.Itoa(res.Concurrency), f(res.Rate), strconv.Itoa(res.Connections), strconv.Itoa(len(res.Samples)),
			f(s.Throughput.Median), f(s.Throughput.Min), f(s.Throughput.Max), f(s.RefRatio.Median),
			f(s.P50.Median), f(s.P90.Median), f(s.P99.Median), f(s.P99.Min), f(s.P99.Max), f(s.P999.Median), f(s.Max.Max),
			f(s.ServerCPUPer1k.Median), f(s.ClientCPUPer1k.Median), f(s.BytesInPerCall.Median), f(s.BytesOutPerCall.Median),
			f(s.ServerAllocsPerCall.Median), f(s.ClientAllocsPerCall.Median), f(s.ServerRSSMiB.Median),
			strconv.FormatUint(s.Calls, 10), strconv.FormatUint(s.Errors, 10), strconv.FormatUint(s.Late, 10), strconv.FormatUint(s.Unsent, 10),
			f(s.RetriesPerCall.Median), strconv.FormatInt(s.BreakerChanges, 10)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteBench writes every sample in Go's benchmark format, one line per
// round, so that benchstat (golang.org/x/perf/cmd/benchstat) can compare
// two runs: benchstat old.txt new.txt.
func WriteBench(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/igbank/igbank/loadtest\ncpu: %s\n", r.Env.OS, r.Env.Arch, r.Env.CPUModel)
	procs := r.Env.GOMAXPROCS
	for _, res := range r.Results {
		name := fmt.Sprintf("BenchmarkLoadtest/transport=%s/conc=%d", res.Transport, res.Concurrency)
		if res.Rate > 0 {
			name += "/rate=" + strconv.FormatFloat(res.Rate, 'f', -1, 64)
		}
		for _, s := range res.Samples {
			if s.Calls == 0 {
				continue
			}
			all := s.Ops["all"]
			if all == nil {
				all = &OpResult{}
			}
			fmt.Fprintf(w, "%s-%d\t%d\t%.1f ns/op\t%.0f calls/s\t%.0f p50-ns\t%.0f p99-ns\t%.0f p99.9-ns\t%.1f cli-cpu-ns/op\t%.1f cli-allocs/op",
				name, procs, s.Calls, float64(s.ElapsedNs)/float64(s.Calls), s.Throughput,
				all.P50*1e3, all.P99*1e3, all.P999*1e3,
				float64(s.ClientCPUNs)/float64(s.Calls), float64(s.ClientAllocs)/float64(s.Calls))
			if s.ServerOwnProc {
				fmt.Fprintf(w, "\t%.1f srv-cpu-ns/op\t%.1f srv-allocs/op", float64(s.ServerCPUNs)/float64(s.Calls), float64(s.ServerAllocs)/float64(s.Calls))
			}
			fmt.Fprintf(w, "\t%.1f in-B/op\t%.1f out-B/op\n", float64(s.BytesIn)/float64(s.Calls), float64(s.BytesOut)/float64(s.Calls))
		}
	}
	return nil
}

// WriteComparison writes two runs side by side: for every transport and
// load point in both, the median throughput, p99 and server CPU per call
// of each, and the change from a to b.
func WriteComparison(w io.Writer, a, b *Report, nameA, nameB string) error {
	fmt.Fprintf(w, "A: %s (%s, %s)\nB: %s (%s, %s)\n", nameA, a.Started.Format(time.RFC3339), shortCommit(a.Env.Commit), nameB, b.Started.Format(time.RFC3339), shortCommit(b.Env.Commit))
	type key struct {
		t    string
		conc int
		rate float64
	}
	bm := map[key]*Result{}
	for _, r := range b.Results {
		bm[key{r.Transport, r.Concurrency, r.Rate}] = r
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "transport\tload\tcalls/s A\tcalls/s B\tΔ\t×ref A\t×ref B\tp99 A\tp99 B\tΔ\tsrv µs/call A\tsrv µs/call B\tΔ")
	delta := func(x, y float64) string {
		if x == 0 {
			return "-"
		}
		return fmt.Sprintf("%+.1f%%", (y-x)/x*100)
	}
	for _, g := range groups(a) {
		for _, ra := range g.results {
			rb := bm[key{ra.Transport, ra.Concurrency, ra.Rate}]
			if rb == nil {
				continue
			}
			sa, sb := ra.Summary, rb.Summary
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ra.Transport, g.label(),
				fmtRate(sa.Throughput.Median), fmtRate(sb.Throughput.Median), delta(sa.Throughput.Median, sb.Throughput.Median),
				fmtNum(sa.RefRatio.Median, 2), fmtNum(sb.RefRatio.Median, 2),
				fmtUs(sa.P99.Median), fmtUs(sb.P99.Median), delta(sa.P99.Median, sb.P99.Median),
				fmtNum(sa.ServerCPUPer1k.Median, 1), fmtNum(sb.ServerCPUPer1k.Median, 1), delta(sa.ServerCPUPer1k.Median, sb.ServerCPUPer1k.Median))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nOn a shared machine a single run swings by up to 2×; compare ×ref (each run's own reference) before raw calls/s.")
	return nil
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	if c == "" {
		return "no commit"
	}
	return c
}

// Merge returns a report holding the results of a and b, with each
// transport's name suffixed, so that one HTML page can show both runs.
func Merge(a, b *Report, tagA, tagB string) *Report {
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
