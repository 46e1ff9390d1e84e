package transports_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// serveProgram runs transport d's server program in this process (the
// code of its cmd/server, cli.Serve) with args, and returns the keys of
// its ready line.
func serveProgram(t *testing.T, d transport.Descriptor, args ...string) map[string]any {
	t.Helper()
	var f cli.ServerFlags
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	f.Register(fs, d)
	if err := fs.Parse(append([]string{"-addr", "127.0.0.1:0", "-accounts", "10"}, args...)); err != nil {
		t.Fatal(err)
	}
	var out banktest.LogBuffer
	logger, err := logs.New(&out, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cli.Serve(ctx, d, &f, logger) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.Contains(fmt.Sprint(rec["msg"]), "ready on") {
				return rec
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server ended before it was ready: %v\n%s", err, out.String())
		default:
		}
	}
	t.Fatalf("no ready line:\n%s", out.String())
	return nil
}

// Every transport's server program started with -metrics serves its
// per-operation call counters, connections and bytes at /metrics, counted
// after one call through a real client.
func TestServerMetrics(t *testing.T) {
	for _, d := range transports.All {
		t.Run(d.Name, func(t *testing.T) {
			ready := serveProgram(t, d, "-metrics", "127.0.0.1:0")
			addr, maddr := fmt.Sprint(ready[logs.Addr]), fmt.Sprint(ready[logs.Metrics])
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := d.Variants[0].Dial(ctx, addr, transport.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Balance(ctx, ledger.SeedAccount(1)); err != nil {
				t.Fatal(err)
			}
			c.Close()
			resp, err := http.Get("http://" + maddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			text := string(body)
			for _, series := range []string{
				fmt.Sprintf("igbank_server_calls_total{code=%q,op=%q,transport=%q}", "ok", "balance", d.Name),
				fmt.Sprintf("igbank_server_call_duration_seconds_count{op=%q,transport=%q}", "balance", d.Name),
			} {
				if v, ok := metricValue(text, series); v != 1 {
					t.Errorf("%s = %v (found: %v), want 1", series, v, ok)
				}
			}
			for _, series := range []string{
				fmt.Sprintf("igbank_server_connections_total{transport=%q}", d.Name),
				fmt.Sprintf("igbank_server_bytes_total{direction=%q,transport=%q}", "in", d.Name),
				fmt.Sprintf("igbank_server_bytes_total{direction=%q,transport=%q}", "out", d.Name),
				"go_goroutines",
			} {
				if v, ok := metricValue(text, series); v <= 0 {
					t.Errorf("%s = %v (found: %v), want more than 0", series, v, ok)
				}
			}
			if t.Failed() {
				t.Logf("/metrics:\n%s", text)
			}
		})
	}
}

// metricValue returns the value of series (a metric name with its labels,
// as the exposition format prints them) in text.
func metricValue(text, series string) (float64, bool) {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}
