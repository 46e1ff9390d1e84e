package banktest_test

import (
	"sync"
	"testing"

	"github.com/igbank/igbank/common/banktest"
)

// BenchCallers makes each call number once, from several goroutines, and
// reports the latency metrics.
func TestBenchCallers(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	var n int
	r := testing.Benchmark(func(b *testing.B) {
		clear(seen)
		n = b.N
		banktest.BenchCallers(b, 8, func(i int) error {
			mu.Lock()
			seen[i]++
			mu.Unlock()
			return nil
		})
	})
	if len(seen) != n {
		t.Errorf("%d distinct calls, want b.N = %d", len(seen), n)
	}
	for i, c := range seen {
		if i < 0 || i >= n || c != 1 {
			t.Errorf("call %d made %d times (b.N = %d)", i, c, n)
		}
	}
	for _, m := range []string{"calls/s", "p50-µs", "p99-µs"} {
		if _, ok := r.Extra[m]; !ok {
			t.Errorf("no %s in %v", m, r.Extra)
		}
	}
}

// The ping-pong reference runs, with one caller and with several.
func TestBenchTCPPingPong(t *testing.T) {
	for _, callers := range []int{1, 4} {
		r := testing.Benchmark(func(b *testing.B) { banktest.BenchTCPPingPong(b, callers) })
		if r.N == 0 || r.Extra["p50-µs"] <= 0 {
			t.Errorf("%d callers: %d calls, metrics %v", callers, r.N, r.Extra)
		}
	}
}
