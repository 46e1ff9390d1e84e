package restbank_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	restbank "github.com/igbank/igbank/rest-json"
)

// -restbank.addr points the benchmarks at a server in another process
// (go run ./cmd/server), so that -benchmem counts the client's
// allocations alone.
var benchAddr = flag.String("restbank.addr", "", "benchmark against the server at this address instead of one in the test process")

// -restbank.serverpid names that server's process, so that BenchmarkLoad
// also reports its CPU time per call (from /proc/PID/stat).
var benchServerPID = flag.Int("restbank.serverpid", 0, "process id of the -restbank.addr server, for its CPU time per call")

// serverCPU returns the user+system CPU time of the -restbank.serverpid
// process, 0 when that is not set.
func serverCPU() time.Duration {
	if *benchServerPID <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", *benchServerPID))
	if err != nil {
		return 0
	}
	// Fields after the command (which ends with ')'): utime and stime are
	// the 12th and 13th, in clock ticks (100 Hz).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) <= 12 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func benchClient(b *testing.B) *restbank.Client {
	b.Helper()
	addr := *benchAddr
	if addr == "" {
		addr = banktest.Serve(b, restbank.NewServer(bank.NewService(ledger.NewMemory(ledger.DefaultAccounts))))
	}
	c, err := restbank.Dial(context.Background(), addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

var keySeq atomic.Int64

// newKey returns a key no other benchmark run of any process used.
func newKey() string {
	var buf [32]byte
	k := strconv.AppendInt(append(buf[:0], "bench-"...), time.Now().UnixNano(), 36)
	k = append(k, '-')
	return string(strconv.AppendInt(k, keySeq.Add(1), 36))
}

type op func(ctx context.Context, c *restbank.Client, i int) error

var ops = []struct {
	name string
	f    op
}{
	{"Balance", func(ctx context.Context, c *restbank.Client, i int) error {
		_, err := c.Balance(ctx, accs[1+i%1000])
		return err
	}},
	{"Statement", func(ctx context.Context, c *restbank.Client, i int) error {
		_, err := c.Statement(ctx, bank.StatementRequest{Account: accs[1+i%1000], Month: "2026-01"})
		return err
	}},
	{"Deposit", func(ctx context.Context, c *restbank.Client, i int) error {
		_, err := c.Deposit(ctx, bank.DepositRequest{Account: accs[1+i%1000], Amount: 1, IdempotencyKey: newKey()})
		return err
	}},
}

// accounts are formatted outside the timed loop.
func init() {
	for i := 1; i <= 1000; i++ {
		accs[i] = ledger.SeedAccount(i)
	}
}

var accs [1001]bank.AccountNo

// BenchmarkCall times each operation sequentially (one caller) and with
// b.RunParallel (GOMAXPROCS callers; -cpu sets how many), over a real
// loopback server.
func BenchmarkCall(b *testing.B) {
	for _, o := range ops {
		b.Run(o.name+"/seq", func(b *testing.B) {
			c := benchClient(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := o.f(ctx, c, i); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(o.name+"/parallel", func(b *testing.B) {
			c := benchClient(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if err := o.f(ctx, c, i); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

// BenchmarkLoad runs a closed loop of 1 and of 64 callers (no think time)
// for Balance and Deposit and reports throughput, latency percentiles and
// CPU time per call (banktest.BenchCallers; with an in-process server its
// cpu-ns/op is both sides together). ns/op is wall time divided by calls,
// so 1e9/ns/op is calls per second.
func BenchmarkLoad(b *testing.B) {
	for _, o := range []int{0, 2} {
		for _, callers := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", ops[o].name, callers), func(b *testing.B) {
				c := benchClient(b)
				ctx := context.Background()
				srv0 := serverCPU()
				banktest.BenchCallers(b, callers, func(i int) error { return ops[o].f(ctx, c, i) })
				if *benchServerPID > 0 && b.N > 0 {
					b.ReportMetric(float64((serverCPU()-srv0).Microseconds())/float64(b.N), "server-cpu-µs/call")
				}
			})
		}
	}
}

// discardWriter is a reusable http.ResponseWriter, so that the handler
// benchmarks count the handler's allocations, not the recorder's.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

type rewindBody struct {
	data []byte
	off  int
}

func (r *rewindBody) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}

func (r *rewindBody) Close() error { return nil }

// BenchmarkHandler measures the server's handlers (ServeMux routing, path
// values, decoding, the bank, encoding) without the network: the
// server-side allocations per call that are this package's doing. The
// rest of net/http's per-request work (reading and parsing the request,
// the response buffer) is in BenchmarkCall's figure with an in-process
// server minus the same benchmark against -restbank.addr.
func BenchmarkHandler(b *testing.B) {
	h := restbank.NewServer(bank.NewService(ledger.NewMemory(ledger.DefaultAccounts))).Handler()
	run := func(b *testing.B, method, path string, body []byte, status int, prep func(*http.Request, int)) {
		w := &discardWriter{h: make(http.Header)}
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		rb := &rewindBody{data: body}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			clear(w.h)
			if body != nil {
				rb.off = 0
				req.Body = rb
				req.ContentLength = int64(len(body))
			}
			if prep != nil {
				prep(req, i)
			}
			h.ServeHTTP(w, req)
			if w.status != status {
				b.Fatalf("status %d", w.status)
			}
		}
	}
	b.Run("Balance", func(b *testing.B) { run(b, "GET", "/v1/accounts/000000001/balance", nil, 200, nil) })
	b.Run("Statement", func(b *testing.B) { run(b, "GET", "/v1/accounts/000000001/statements/2026-01", nil, 200, nil) })
	b.Run("Deposit", func(b *testing.B) {
		keys := make([][]string, b.N)
		for i := range keys {
			keys[i] = []string{newKey()}
		}
		run(b, "POST", "/v1/accounts/000000001/deposits", []byte(`{"amount":1}`), 201, func(r *http.Request, i int) {
			r.Header["Idempotency-Key"] = keys[i]
		})
	})
}
