package bench

import (
	"context"
	"math"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

// BenchmarkTransport runs every registered transport and operation as
// sub-benchmarks, BenchmarkTransport/<name>/<op>, against a real server on
// loopback in this process: one caller (seq) and b.RunParallel callers
// (par), so benchstat compares runs the Go way. Server and client share the
// process here, so cpu-ns/op is both sides' CPU per call; "loadtest run"
// tells them apart.
func BenchmarkTransport(b *testing.B) {
	for _, tr := range append([]transport.Variant{registry.Reference}, registry.Variants()...) {
		b.Run(tr.Name, func(b *testing.B) {
			srv, err := server.Start(tr, "127.0.0.1:0", bank.NewService(ledger.NewMemory(1000)), transport.ServerConfig{})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			cl, err := tr.Dial(context.Background(), srv.Addr(), transport.ClientConfig{})
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			ctx := context.Background()
			month := bank.MonthOf(time.Now())
			var keys atomic.Uint64
			prefix := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
			ops := []struct {
				name string
				f    func(i int) error
			}{
				{"Balance", func(i int) error { _, err := cl.Balance(ctx, ledger.SeedAccount(1+i%1000)); return err }},
				{"Statement", func(i int) error {
					_, err := cl.Statement(ctx, bank.StatementRequest{Account: ledger.SeedAccount(1 + i%1000), Month: month})
					return err
				}},
				{"Deposit", func(i int) error {
					_, err := cl.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1 + i%1000), Amount: 1,
						IdempotencyKey: prefix + strconv.FormatUint(keys.Add(1), 36)})
					return err
				}},
			}
			for _, op := range ops {
				b.Run(op.name, func(b *testing.B) {
					b.Run("seq", func(b *testing.B) {
						b.ReportAllocs()
						cpu0 := server.ReadProcStats().CPUNs()
						for i := 0; b.Loop(); i++ {
							if err := op.f(i); err != nil {
								b.Fatal(err)
							}
						}
						reportCPU(b, cpu0)
					})
					b.Run("par", func(b *testing.B) {
						b.ReportAllocs()
						cpu0 := server.ReadProcStats().CPUNs()
						b.RunParallel(func(pb *testing.PB) {
							i := 0
							for pb.Next() {
								if err := op.f(i); err != nil {
									b.Error(err)
									return
								}
								i++
							}
						})
						reportCPU(b, cpu0)
					})
				})
			}
		})
	}
}

// BenchmarkGenerator is the load generator's own cost per request: the
// closed loop's step (pick the operation and account, make an idempotency
// key when needed, read the clock twice, call, count, record in the
// histogram) against the no-op client. Target: under 200 ns and no
// allocation per request.
func BenchmarkGenerator(b *testing.B) {
	for _, tc := range []struct {
		name string
		w    Workload
	}{
		{"mix=90-5-5", defaultWorkload()},
		{"mix=0-0-100", func() Workload { w := defaultWorkload(); w.Mix = Mix{0, 0, 100}; return w }()},
		{"zipf=1.1", func() Workload { w := defaultWorkload(); w.Zipf = 1.1; return w }()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			accounts := accountTable(tc.w.Accounts)
			l := load{Workload: tc.w, Concurrency: 1}
			b.Run("seq", func(b *testing.B) {
				w := &worker{}
				for op := range w.ops {
					w.ops[op].hist = hdrNew()
				}
				g := newGenerator(&l.Workload, accounts, 0, 1)
				base := time.Now()
				now := func() int64 { return int64(time.Since(base)) }
				var stop atomic.Bool
				ctx := context.Background()
				b.ReportAllocs()
				cpu0 := server.ReadProcStats().CPUNs()
				for b.Loop() {
					w.step(ctx, registry.Noop, g, &l, now, 0, math.MaxInt64, &stop)
				}
				reportCPU(b, cpu0)
			})
			b.Run("par", func(b *testing.B) {
				var id atomic.Int64
				base := time.Now()
				now := func() int64 { return int64(time.Since(base)) }
				var stop atomic.Bool
				ctx := context.Background()
				b.ReportAllocs()
				cpu0 := server.ReadProcStats().CPUNs()
				b.RunParallel(func(pb *testing.PB) {
					w := &worker{}
					for op := range w.ops {
						w.ops[op].hist = hdrNew()
					}
					g := newGenerator(&l.Workload, accounts, int(id.Add(1)), 1)
					for pb.Next() {
						w.step(ctx, registry.Noop, g, &l, now, 0, math.MaxInt64, &stop)
					}
				})
				reportCPU(b, cpu0)
			})
		})
	}
}

// reportCPU adds the process's CPU time per iteration, which a busy shared
// machine does not inflate the way it inflates ns/op (wall time).
func reportCPU(b *testing.B, cpu0 int64) {
	b.ReportMetric(float64(server.ReadProcStats().CPUNs()-cpu0)/float64(b.N), "cpu-ns/op")
}

// TestGeneratorNoAllocs checks the generator's step allocates nothing per
// request (keys are carved from a slab, so deposits allocate once per
// thousands).
func TestGeneratorNoAllocs(t *testing.T) {
	w := defaultWorkload()
	l := load{Workload: w, Concurrency: 1}
	wk := &worker{}
	for op := range wk.ops {
		wk.ops[op].hist = hdrNew()
	}
	g := newGenerator(&l.Workload, accountTable(w.Accounts), 0, 1)
	base := time.Now()
	now := func() int64 { return int64(time.Since(base)) }
	var stop atomic.Bool
	ctx := context.Background()
	allocs := testing.AllocsPerRun(10000, func() {
		wk.step(ctx, registry.Noop, g, &l, now, 0, math.MaxInt64, &stop)
	})
	if allocs > 0.01 {
		t.Errorf("%.3f allocations per request, want none", allocs)
	}
}
