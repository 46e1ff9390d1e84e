package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/loadtest/registry"
	"github.com/igbank/igbank/loadtest/server"
)

// stallBank holds every call that arrives while a stall is on until the
// stall ends.
type stallBank struct {
	bank.Bank
	until atomic.Int64 // unix nanoseconds
}

func (s *stallBank) wait() {
	if d := time.Until(time.Unix(0, s.until.Load())); d > 0 {
		time.Sleep(d)
	}
}

func (s *stallBank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	s.wait()
	return s.Bank.Balance(ctx, acc)
}

func (s *stallBank) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	s.wait()
	return s.Bank.Statement(ctx, req)
}

func (s *stallBank) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	s.wait()
	return s.Bank.Deposit(ctx, req)
}

// TestOpenLoopCountsStall is the coordinated-omission check: a server that
// stalls for 200 ms during an open-loop run at 1000 calls/s holds up about
// 200 calls' worth of schedule, a fifth of the window, so p99 measured from
// the intended send times must show the stall. (Measured from the actual
// send, as a closed loop does, only the few calls in flight would.)
func TestOpenLoopCountsStall(t *testing.T) {
	tr := registry.Reference
	if raw, ok := registry.Lookup("raw"); ok {
		tr = raw
	}
	const stall = 200 * time.Millisecond
	sb := &stallBank{Bank: bank.NewService(ledger.NewMemory(100))}
	srv, err := server.Start(tr, "127.0.0.1:0", sb, transport.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl, err := tr.Dial(context.Background(), srv.Addr(), transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	w := defaultWorkload()
	w.Accounts = 100
	l := load{Workload: w, Concurrency: 8, Rate: 1000, Warmup: 100 * time.Millisecond, Duration: time.Second, RunID: 1}
	hook := func(start bool) {
		if start {
			time.AfterFunc(300*time.Millisecond, func() { sb.until.Store(time.Now().Add(stall).UnixNano()) })
		}
	}
	st := runLoad(context.Background(), []bank.Bank{cl}, l, accountTable(100), hook)
	all := hdrNew()
	for op := range st.ops {
		all.Merge(st.ops[op].hist)
	}
	p99 := time.Duration(all.ValueAtQuantile(99))
	t.Logf("open loop: %d calls, p50 %v, p99 %v, max %v, late %d; from the actual send: p99 %v",
		all.TotalCount(), time.Duration(all.ValueAtQuantile(50)), p99, time.Duration(all.Max()), st.late,
		time.Duration(st.service.ValueAtQuantile(99)))
	if p99 < stall/2 {
		t.Errorf("p99 %v does not show the %v stall", p99, stall)
	}
	if st.late == 0 {
		t.Error("no call counted as sent late, though the stall held the schedule up")
	}
}
