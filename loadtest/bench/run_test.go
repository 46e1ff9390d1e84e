package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store"
	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/internal/benchtest"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/report"
	"github.com/igbank/igbank/loadtest/server"
)

// checkReport checks a report read back from JSON for sane figures.
func checkReport(t *testing.T, r *bench.Report, names []string, ownProcess bool) {
	t.Helper()
	if r.Env.GoVersion == "" || r.Env.NumCPU == 0 || r.Env.GOMAXPROCS == 0 {
		t.Errorf("environment not filled in: %+v", r.Env)
	}
	got := map[string]*bench.Result{}
	for _, res := range r.Results {
		got[res.Transport] = res
	}
	for _, n := range names {
		res := got[n]
		if res == nil {
			t.Errorf("%s: no result", n)
			continue
		}
		if len(res.Samples) != r.Config.Rounds {
			t.Errorf("%s: %d samples, want %d", n, len(res.Samples), r.Config.Rounds)
			continue
		}
		s, smp := res.Summary, res.Samples[0]
		if s.Throughput.Median <= 0 || smp.Calls == 0 {
			t.Errorf("%s: throughput %v, calls %d", n, s.Throughput.Median, smp.Calls)
		}
		if s.Errors != 0 {
			t.Errorf("%s: %d errors: %v", n, s.Errors, s.ErrorsByCode)
		}
		all := smp.Ops["all"]
		if all == nil {
			t.Errorf("%s: no latency of all calls", n)
			continue
		}
		if !(0 < all.P50 && all.P50 <= all.P90 && all.P90 <= all.P99 && all.P99 <= all.P999 && all.P999 <= all.Max) {
			t.Errorf("%s: percentiles out of order: %+v", n, all)
		}
		h := all.Histogram()
		if h == nil || uint64(h.TotalCount()) != smp.Calls {
			t.Errorf("%s: histogram does not decode to the %d calls", n, smp.Calls)
		}
		var opCalls uint64
		for o := range bank.NumOps {
			op := bank.Op(o).String()
			if smp.Ops[op] == nil {
				t.Errorf("%s: no figures for %s", n, op)
				continue
			}
			opCalls += smp.Ops[op].Calls
		}
		if opCalls != smp.Calls {
			t.Errorf("%s: operations add up to %d calls, want %d", n, opCalls, smp.Calls)
		}
		if smp.BytesIn == 0 || smp.BytesOut == 0 {
			t.Errorf("%s: bytes on the wire %d in, %d out", n, smp.BytesIn, smp.BytesOut)
		}
		if r.Config.Reference && smp.RefRatio <= 0 {
			t.Errorf("%s: no ratio to the reference", n)
		}
		if ownProcess {
			if !smp.ServerOwnProc || smp.ServerCPUNs <= 0 || (server.RSSAvailable && smp.ServerRSSBytes == 0) {
				t.Errorf("%s: server accounting missing: cpu %d ns, rss %d", n, smp.ServerCPUNs, smp.ServerRSSBytes)
			}
		}
		if smp.ClientCPUNs <= 0 {
			t.Errorf("%s: client CPU %d ns", n, smp.ClientCPUNs)
		}
	}
}

func roundTrip(t *testing.T, r *bench.Report) *bench.Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.json")
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := report.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestRunEveryTransportInProcess runs every registered transport and the
// reference briefly, with the servers in this process.
func TestRunEveryTransportInProcess(t *testing.T) {
	c := benchtest.ShortConfig(registry.Names(false))
	c.InProcess = true
	rep, err := bench.Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, roundTrip(t, rep), registry.Names(true), false)
}

// TestRunOwnProcess runs the reference and one transport with their
// servers in processes of their own, as "loadtest run" does by default,
// over two rounds and two connections.
func TestRunOwnProcess(t *testing.T) {
	names := registry.Names(false)
	if len(names) == 0 {
		t.Skip("no transport registered")
	}
	c := benchtest.ShortConfig(names[:1])
	c.Rounds = 2
	c.Connections = bench.Counts{2}
	rep, err := bench.Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, roundTrip(t, rep), []string{registry.ReferenceName, names[0]}, true)
}

// TestInterruptKeepsWhatWasMeasured cancels a run in its second
// measurement: the first is kept and the report says it was interrupted.
func TestInterruptKeepsWhatWasMeasured(t *testing.T) {
	c := benchtest.ShortConfig(registry.Names(false)[:1])
	c.InProcess = true
	c.Rounds = 3
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(c.Warmup+c.Duration+c.Warmup+c.Duration/2, cancel)
	rep, err := bench.Run(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted {
		t.Error("report not marked interrupted")
	}
	var samples int
	for _, r := range rep.Results {
		samples += len(r.Samples)
	}
	if samples == 0 || samples >= 2*c.Rounds {
		t.Errorf("%d samples kept, want some but not all", samples)
	}
}

// TestRunOnSQLiteStore runs deposits through a server in its own process
// over a SQLite store, then opens the file: the deposits are there.
func TestRunOnSQLiteStore(t *testing.T) {
	names := registry.Names(false)
	if len(names) == 0 {
		t.Skip("no transport registered")
	}
	spec := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	c := benchtest.ShortConfig(names[:1])
	c.Reference = false
	c.Store = spec
	c.Workload.Mix = bench.Mix{0, 0, 1}
	rep, err := bench.Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, roundTrip(t, rep), names[:1], true)
	measured := rep.Results[0].Samples[0].Ops["deposit"].Calls

	lg, closer, err := store.Open(context.Background(), spec, c.Workload.Accounts)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	var deposited bank.Money
	for i := 1; i <= c.Workload.Accounts; i++ {
		b, err := lg.Balance(context.Background(), ledger.SeedAccount(i))
		if err != nil {
			t.Fatal(err)
		}
		deposited += b - ledger.SeedBalance(i)
	}
	if measured == 0 || deposited < bank.Money(measured)*c.Workload.Amount {
		t.Fatalf("the store holds %d cents of deposits; the run measured %d deposits of %d", deposited, measured, c.Workload.Amount)
	}
}

// TestSecurityModes runs raw sockets, gRPC and Thrift in every security
// mode, with and without churn, servers in this process: every call is
// answered (so the credentials of each mode reach the server and pass
// auth.Authorize as the teller), and TLS costs bytes on the wire.
func TestSecurityModes(t *testing.T) {
	c := benchtest.ShortConfig([]string{"raw", "grpc", "thrift"})
	c.InProcess = true
	c.Security = []string{bench.SecurityPlain, bench.SecurityTLS, bench.SecurityMTLS, bench.SecurityToken}
	c.Churn = []bool{false, true}
	c.Concurrency = []int{4}
	r, err := bench.Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	bytesIn := map[string]float64{}
	seen := map[string]bool{}
	for _, res := range r.Results {
		if res.Transport == registry.ReferenceName {
			continue
		}
		key := res.Transport + "/" + res.Security + "/" + map[bool]string{false: "keep", true: "churn"}[res.Churn]
		seen[key] = true
		s := res.Summary
		if s.Calls == 0 || s.Errors != 0 {
			t.Errorf("%s: %d calls, %d errors %v", key, s.Calls, s.Errors, s.ErrorsByCode)
		}
		if !res.Churn {
			bytesIn[res.Transport+"/"+res.Security] = s.BytesInPerCall.Median
		}
	}
	if len(seen) != 3*4*2 {
		t.Errorf("%d transport × mode × churn results, want 24: %v", len(seen), seen)
	}
	for _, tr := range []string{"raw", "grpc", "thrift"} {
		if plain, tls := bytesIn[tr+"/"], bytesIn[tr+"/"+bench.SecurityTLS]; !(tls > plain) {
			t.Errorf("%s: %.1f bytes in per call over TLS, %.1f in plaintext: TLS is not on the wire", tr, tls, plain)
		}
	}
}

// TestRunMetrics serves the clients' metrics during a run with the layers
// on, and starts the servers (in their own processes) with metrics of
// their own: in the second round, the first round's calls and attempts
// are counted.
func TestRunMetrics(t *testing.T) {
	name := registry.Names(false)[0]
	c := benchtest.ShortConfig([]string{name})
	c.Reference = false
	c.Rounds = 2
	c.Resilience = true
	c.Metrics = "127.0.0.1:0"
	var text string
	var scrapeErr error
	progress := func(msg string) {
		if addr, ok := strings.CutPrefix(msg, "client metrics at "); ok {
			c.Metrics = addr
		}
		if !strings.Contains(msg, "round 2/2") {
			return
		}
		resp, err := http.Get(c.Metrics)
		if err != nil {
			scrapeErr = err
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(body)
	}
	if _, err := bench.Run(context.Background(), c, progress); err != nil {
		t.Fatal(err)
	}
	if scrapeErr != nil {
		t.Fatal(scrapeErr)
	}
	for _, series := range []string{
		fmt.Sprintf("igbank_client_calls_total{code=%q,op=%q,transport=%q} ", "ok", "balance", name),
		fmt.Sprintf("igbank_client_attempts_total{code=%q,op=%q,transport=%q} ", "ok", "deposit", name),
		fmt.Sprintf("igbank_client_call_duration_seconds_count{op=%q,transport=%q} ", "statement", name),
	} {
		i := strings.Index(text, "\n"+series)
		if i < 0 || strings.HasPrefix(text[i+1+len(series):], "0\n") {
			t.Errorf("no calls in %s", series)
		}
	}
	if t.Failed() {
		t.Logf("client metrics:\n%s", text)
	}
}
