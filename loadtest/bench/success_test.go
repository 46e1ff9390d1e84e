package bench

import (
	"testing"

	"github.com/igbank/igbank/common/bank"
)

// The latency of the successful calls leaves out the failed ones: 99 calls
// of 10 ms that succeeded and 900 fast refusals keep a p50 of 10 ms.
func TestSucceededLatency(t *testing.T) {
	w := &worker{}
	for op := range w.ops {
		w.ops[op].hist = hdrNew()
	}
	h := w.ops[bank.OpBalance].hist
	for range 99 {
		w.count(bank.OpBalance, nil, 10_000_000, h)
	}
	refused := bank.Errorf(bank.Unavailable, "overloaded")
	for range 900 {
		w.count(bank.OpBalance, refused, 50_000, h)
	}
	got := withoutFailed(h, w.failed)
	if got.TotalCount() != 99 || got.ValueAtQuantile(50) < 9_000_000 || got.Max() > 11_000_000 {
		t.Fatalf("succeeded: %d calls, p50 %d ns, max %d ns; want 99 of about 10 ms", got.TotalCount(), got.ValueAtQuantile(50), got.Max())
	}
	if h.ValueAtQuantile(50) > 100_000 {
		t.Fatal("the refusals were not counted in the latency of all calls")
	}
}
