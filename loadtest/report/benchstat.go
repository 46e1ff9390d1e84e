package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/igbank/igbank/loadtest/bench"
)

// WriteBench writes every sample in Go's benchmark format, one line per
// round, so that benchstat (golang.org/x/perf/cmd/benchstat) can compare
// two runs: benchstat old.txt new.txt. The network and the statement rows
// are in the names when the run made them dimensions.
func WriteBench(w io.Writer, r *bench.Report) error {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/igbank/igbank/loadtest\ncpu: %s\n", r.Env.OS, r.Env.Arch, r.Env.CPUModel)
	procs := r.Env.GOMAXPROCS
	for _, res := range r.Results {
		name := fmt.Sprintf("BenchmarkLoadtest/transport=%s/conc=%d", res.Transport, res.Concurrency)
		if res.Rate > 0 {
			name += "/rate=" + strconv.FormatFloat(res.Rate, 'f', -1, 64)
		}
		if res.Security != "" && res.Security != bench.SecurityPlain {
			name += "/security=" + res.Security
		}
		if res.Churn {
			name += "/churn"
		}
		if len(r.Config.Networks) > 0 {
			// A custom profile's spaces and slashes would split the name.
			name += "/network=" + strings.NewReplacer(" ", "_", "/", "_").Replace(networkName(res.Network))
		}
		if r.Config.StatementRows != nil {
			name += "/rows=" + strconv.Itoa(res.StatementRows)
		}
		for _, s := range res.Samples {
			if s.Calls == 0 {
				continue
			}
			all := s.Ops["all"]
			if all == nil {
				all = &bench.OpResult{}
			}
			fmt.Fprintf(w, "%s-%d\t%d\t%.1f ns/op\t%.0f calls/s\t%.0f p50-ns\t%.0f p99-ns\t%.0f p99.9-ns\t%.1f cli-cpu-ns/op\t%.1f cli-allocs/op",
				name, procs, s.Calls, float64(s.ElapsedNs)/float64(s.Calls), s.Throughput,
				all.P50*1e3, all.P99*1e3, all.P999*1e3,
				float64(s.ClientCPUNs)/float64(s.Calls), float64(s.ClientAllocs)/float64(s.Calls))
			if s.ServerOwnProc && !s.ServerLate {
				fmt.Fprintf(w, "\t%.1f srv-cpu-ns/op\t%.1f srv-allocs/op", float64(s.ServerCPUNs)/float64(s.Calls), float64(s.ServerAllocs)/float64(s.Calls))
			}
			fmt.Fprintf(w, "\t%.1f in-B/op\t%.1f out-B/op\n", float64(s.BytesIn)/float64(s.Calls), float64(s.BytesOut)/float64(s.Calls))
		}
	}
	return nil
}
