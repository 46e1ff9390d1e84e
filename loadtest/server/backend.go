package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// Backend is a resource of fixed capacity behind the bank, for
// experiments that need a server with a small, steady capacity (the
// overload experiment): every call holds one of Slots workers for Time, as
// a call to a database with a pool of Slots connections would. Calls wait
// for a worker first come, first served, without limit. Its capacity is
// Slots/Time calls per second whatever the CPU does, so a two-core
// machine shared with the load generator can be driven well past it. The
// zero Backend is none.
type Backend struct {
	Slots int           `json:"slots,omitempty"`
	Time  time.Duration `json:"time_ns,omitempty"`
}

// On reports whether b is a backend (not the zero one).
func (b Backend) On() bool { return b.Slots > 0 && b.Time > 0 }

// Capacity is the calls per second b can serve.
func (b Backend) Capacity() float64 {
	if !b.On() {
		return 0
	}
	return float64(b.Slots) / b.Time.Seconds()
}

// String is b as ParseBackend reads it: "SLOTSxTIME", such as "8x2ms";
// "none" for the zero Backend.
func (b Backend) String() string {
	if !b.On() {
		return "none"
	}
	return strconv.Itoa(b.Slots) + "x" + b.Time.String()
}

// ParseBackend reads "SLOTSxTIME" (such as "8x2ms": 8 workers, 2 ms a
// call) or "none".
func ParseBackend(s string) (Backend, error) {
	if s == "" || s == "none" {
		return Backend{}, nil
	}
	n, d, ok := strings.Cut(s, "x")
	slots, err1 := strconv.Atoi(n)
	t, err2 := time.ParseDuration(d)
	if !ok || err1 != nil || err2 != nil || slots < 1 || slots > 10_000 || t <= 0 || t > time.Minute {
		return Backend{}, fmt.Errorf("backend %q: want SLOTSxTIME, such as 8x2ms (1 to 10000 slots, up to a minute), or none", s)
	}
	return Backend{Slots: slots, Time: t}, nil
}

// wrap puts b in front of next.
func (b Backend) wrap(next bank.Bank) bank.Bank {
	if !b.On() {
		return next
	}
	return &backend{Bank: next, time: b.Time, slots: make(chan struct{}, b.Slots)}
}

type backend struct {
	bank.Bank
	time  time.Duration
	slots chan struct{} // a token per worker busy; senders queue FIFO
}

// work holds a worker for the backend's time. A call whose caller gave up
// while it waited is still served, as a database serves a query whose
// client went away: that is what makes an overloaded server's queue cost
// its capacity.
func (b *backend) work() {
	b.slots <- struct{}{}
	time.Sleep(b.time)
	<-b.slots
}

func (b *backend) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	b.work()
	return b.Bank.Balance(ctx, acc)
}

func (b *backend) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	b.work()
	return b.Bank.Statement(ctx, req)
}

func (b *backend) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	b.work()
	return b.Bank.Deposit(ctx, req)
}
