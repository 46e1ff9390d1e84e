package report

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/igbank/igbank/loadtest/bench"
)

// csvHeader is the header row of WriteCSV.
var csvHeader = []string{"transport", "concurrency", "rate", "connections", "rounds",
	"throughput_median", "throughput_min", "throughput_max", "ref_ratio",
	"p50_us", "p90_us", "p99_us", "p99_min_us", "p99_max_us", "p999_us", "max_us",
	"server_cpu_us_per_call", "client_cpu_us_per_call", "bytes_in_per_call", "bytes_out_per_call",
	"server_allocs_per_call", "client_allocs_per_call", "server_rss_mib",
	"calls", "errors", "late", "unsent", "retries_per_call", "breaker_changes", "security", "churn",
	// Added since: at the end, so that the columns above keep their
	// places in the scripts that read them.
	"network", "statement_rows", "successful_per_s", "error_rate",
	"rss_per_conn_kib", "heap_per_conn_kib", "goroutines_per_conn", "stuck", "failed"}

// WriteCSV writes one row per transport and load point, with medians over
// the rounds. Throughput counts every call; successful_per_s, the figure
// the table shows and ranks by, only those that succeeded. The
// per-connection figures are empty where the run did not measure them,
// so that they do not read as connections that cost nothing.
func WriteCSV(w io.Writer, r *bench.Report) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, res := range r.Results {
		if len(res.Samples) == 0 {
			continue
		}
		s := res.Summary
		perConn := func(x bench.Stat) string {
			if !hasConnMemory(res) {
				return ""
			}
			return f(x.Median)
		}
		security := res.Security
		if security == "" {
			security = bench.SecurityPlain
		}
		cw.Write([]string{res.Transport, strconv.Itoa(res.Concurrency), f(res.Rate), strconv.Itoa(res.Connections), strconv.Itoa(len(res.Samples)),
			f(s.Throughput.Median), f(s.Throughput.Min), f(s.Throughput.Max), f(s.RefRatio.Median),
			f(s.P50.Median), f(s.P90.Median), f(s.P99.Median), f(s.P99.Min), f(s.P99.Max), f(s.P999.Median), f(s.Max.Max),
			f(s.ServerCPUPer1k.Median), f(s.ClientCPUPer1k.Median), f(s.BytesInPerCall.Median), f(s.BytesOutPerCall.Median),
			f(s.ServerAllocsPerCall.Median), f(s.ClientAllocsPerCall.Median), f(s.ServerRSSMiB.Median),
			strconv.FormatUint(s.Calls, 10), strconv.FormatUint(s.Errors, 10), strconv.FormatUint(s.Late, 10), strconv.FormatUint(s.Unsent, 10),
			f(s.RetriesPerCall.Median), strconv.FormatInt(s.BreakerChanges, 10), security, strconv.FormatBool(res.Churn),
			networkName(res.Network), strconv.Itoa(res.StatementRows), f(s.Successful.Median), f(s.ErrorRate),
			perConn(s.RSSPerConnKiB), perConn(s.HeapPerConnKiB), perConn(s.GoroutinesPerConn),
			strconv.FormatUint(stuck(res), 10), strconv.FormatBool(s.Failed)})
	}
	cw.Flush()
	return cw.Error()
}
