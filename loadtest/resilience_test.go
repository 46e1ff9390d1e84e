package loadtest

import (
	"context"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/resilience/resiliencetest"
)

// TestResilience runs the exactly-once suite of the client layers over
// every registered transport: a real server on a loopback listener that
// loses requests and responses and resets connections, the transport's
// real client, and common/resilience around it.
func TestResilience(t *testing.T) {
	for _, tr := range Registry() {
		t.Run(tr.Name, func(t *testing.T) {
			resiliencetest.Run(t, tr.NewServer, tr.Dial)
		})
	}
}

// BenchmarkResilienceOverhead measures what the client layers cost over a
// real loopback transport: Balance and Deposit from 64 concurrent callers
// (GOMAXPROCS×resilienceParallelism goroutines on 2 cores), through the
// bare client and through resilience.Wrap around it, alternating, for every
// registered transport. Throughput is 1e9 / (ns/op). Run with
//
//	go test -run '^$' -bench ResilienceOverhead -benchmem -count 6 ./loadtest
//
// and compare bare against layers with benchstat.
func BenchmarkResilienceOverhead(b *testing.B) {
	for _, tr := range Registry() {
		b.Run(tr.Name, func(b *testing.B) {
			srv := bank.NewService(ledger.NewMemory(ledger.DefaultAccounts))
			c := banktest.Transport(tr.NewServer, tr.Dial)(b, srv)
			for _, v := range []struct {
				name string
				c    bank.Bank
			}{{"bare", c}, {"layers", resilience.Wrap(c)}} {
				b.Run(v.name+"/Balance", func(b *testing.B) {
					callers(b, func(n uint64) error {
						_, err := v.c.Balance(context.Background(), ledger.SeedAccount(int(n%ledger.DefaultAccounts)+1))
						return err
					})
				})
				b.Run(v.name+"/Deposit", func(b *testing.B) {
					callers(b, func(n uint64) error {
						_, err := v.c.Deposit(context.Background(), bank.DepositRequest{
							Account: ledger.SeedAccount(int(n%ledger.DefaultAccounts) + 1), Amount: 1,
							IdempotencyKey: resilience.NewKey()})
						return err
					})
				})
			}
		})
	}
}

// resilienceCallers is how many goroutines call at once.
const resilienceCallers = 64

func callers(b *testing.B, call func(n uint64) error) {
	b.ReportAllocs()
	b.SetParallelism((resilienceCallers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var next atomic.Uint64
	cpu0 := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		n := next.Add(1) * 7919
		for pb.Next() {
			if err := call(n); err != nil {
				b.Error(err)
				return
			}
			n++
		}
	})
	// CPU time per call (client and server, both in this process) is much
	// steadier than wall time on a shared machine.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user and system CPU time of this process so far,
// in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
