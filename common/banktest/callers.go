package banktest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/igbank/igbank/common/internal/cputime"
)

// The latency histograms of BenchCallers: 1 ns to a minute, in ns, with
// two significant figures (1% resolution), small enough (some 30 KB) for
// one per caller.
const (
	latencyMin     = 1
	latencyMax     = 60_000_000_000
	latencySigFigs = 2
)

// BenchCallers runs call b.N times in all from callers goroutines at once,
// a closed loop with no think time, and reports, besides ns/op (wall time
// over calls, so 1e9/(ns/op) is the throughput):
//
//	calls/s    the calls completed per second
//	p50-µs     the median latency of a call
//	p99-µs     the 99th percentile latency of a call
//	cpu-ns/op  the CPU time of the whole process per call (client and,
//	           in process, server), steadier than ns/op on a busy machine
//
// call gets each number from 0 to b.N-1 once; it must be safe for
// concurrent use when callers > 1. Each caller records into its own
// histogram, made before the timer starts, so recording neither allocates
// nor contends. With 1 caller this is the sequential latency; with 64 it
// is the latency under load.
func BenchCallers(b *testing.B, callers int, call func(n int) error) {
	if callers < 1 {
		b.Fatalf("BenchCallers: %d callers", callers)
	}
	hists := make([]*hdrhistogram.Histogram, callers)
	for i := range hists {
		hists[i] = hdrhistogram.New(latencyMin, latencyMax, latencySigFigs)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	stop := cputime.Start(b)
	start := time.Now()
	for _, h := range hists {
		wg.Go(func() {
			for n := next.Add(1) - 1; n < int64(b.N); n = next.Add(1) - 1 {
				t0 := time.Now()
				if err := call(int(n)); err != nil {
					b.Error(err)
					return
				}
				_ = h.RecordValue(min(max(time.Since(t0).Nanoseconds(), latencyMin), latencyMax))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	all := hists[0]
	for _, h := range hists[1:] {
		all.Merge(h)
	}
	if all.TotalCount() == 0 {
		return
	}
	b.ReportMetric(float64(all.TotalCount())/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(all.ValueAtQuantile(50))/1e3, "p50-µs")
	b.ReportMetric(float64(all.ValueAtQuantile(99))/1e3, "p99-µs")
}

// BenchTCPPingPong is the reference for transport benchmarks on a noisy
// machine: BenchCallers with callers goroutines, each with its own bare
// loopback TCP connection, sending 16 bytes and reading their echo, no
// encoding at all. Compare a transport's figures with it only within one
// run.
func BenchTCPPingPong(b *testing.B, callers int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				io.Copy(nc, nc)
			}()
		}
	}()
	// Each call takes a connection and gives it back: there are as many
	// as callers, so no caller waits for one.
	type conn struct {
		nc  net.Conn
		buf []byte
	}
	conns := make(chan conn, callers)
	for range callers {
		nc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		conns <- conn{nc, make([]byte, 16)}
	}
	BenchCallers(b, callers, func(int) error {
		c := <-conns
		defer func() { conns <- c }()
		if _, err := c.nc.Write(c.buf); err != nil {
			return err
		}
		_, err := io.ReadFull(c.nc, c.buf)
		return err
	})
}
