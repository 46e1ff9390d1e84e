package resilience

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
)

const ms = time.Millisecond

func TestBackoffSequenceAtExtremes(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 10 * ms, MaxBackoff: 100 * ms, Multiplier: 2}
	for _, tc := range []struct {
		jitter Jitter
		rnd    fixedRand
		want   []time.Duration
	}{
		{JitterNone, 0, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 100 * ms, 100 * ms}},
		{JitterFull, 1, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 100 * ms, 100 * ms}},
		{JitterFull, 0, []time.Duration{0, 0, 0, 0, 0, 0}},
		{JitterEqual, 1, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 100 * ms, 100 * ms}},
		{JitterEqual, 0, []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 50 * ms, 50 * ms}},
		// Decorrelated at the top grows threefold from the last delay.
		{JitterDecorrelated, 1, []time.Duration{30 * ms, 90 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms}},
		{JitterDecorrelated, 0, []time.Duration{10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms}},
	} {
		t.Run(tc.jitter.String(), func(t *testing.T) {
			pp := p
			pp.Jitter = tc.jitter
			pp = pp.withDefaults()
			bo := newBackoff(&pp, tc.rnd)
			for i, want := range tc.want {
				if got := bo.delay(); got != want {
					t.Fatalf("rand %v: delay %d = %v, want %v", float64(tc.rnd), i+1, got, want)
				}
			}
		})
	}
}

func TestBackoffBoundsRandom(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 3 * ms, MaxBackoff: 200 * ms, Multiplier: 1.5}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, j := range []Jitter{JitterFull, JitterEqual, JitterDecorrelated, JitterNone} {
		pp := p
		pp.Jitter = j
		pp = pp.withDefaults()
		for run := 0; run < 200; run++ {
			bo := newBackoff(&pp, rnd)
			exp := pp.InitialBackoff
			prev := pp.InitialBackoff
			for n := 0; n < 20; n++ {
				capped := min(exp, pp.MaxBackoff)
				d := bo.delay()
				var lo, hi time.Duration
				switch j {
				case JitterFull:
					lo, hi = 0, capped
				case JitterEqual:
					lo, hi = capped/2, capped
				case JitterDecorrelated:
					lo, hi = pp.InitialBackoff, min(3*prev, pp.MaxBackoff)
					prev = d
				case JitterNone:
					lo, hi = capped, capped
				}
				if d < lo || d > hi {
					t.Fatalf("%v: delay %d = %v, want within [%v, %v]", j, n+1, d, lo, hi)
				}
				exp = time.Duration(float64(exp) * pp.Multiplier) // the layer keeps whole nanoseconds too
			}
		}
	}
}

func TestParseJitter(t *testing.T) {
	for _, j := range []Jitter{JitterFull, JitterEqual, JitterDecorrelated, JitterNone} {
		got, err := ParseJitter(j.String())
		if err != nil || got != j {
			t.Fatalf("ParseJitter(%q) = %v, %v", j.String(), got, err)
		}
	}
	if _, err := ParseJitter("some"); err == nil {
		t.Fatal("ParseJitter accepted an unknown name")
	}
}

// wrapFake wraps f with retry only (no breaker), a fake clock, and the
// given policy.
func wrapFake(f *flaky, p RetryPolicy, opts ...Option) (bank.Bank, *Stats) {
	var st Stats
	opts = append([]Option{WithRetry(p), WithoutBreaker(), WithClock(f.clock), WithRand(fixedRand(1)), WithStats(&st)}, opts...)
	return Wrap(f, opts...), &st
}

func TestRetriesUntilSuccess(t *testing.T) {
	f := &flaky{clock: newFakeClock(), fail: failFirst(2, errDown)}
	b, st := wrapFake(f, RetryPolicy{InitialBackoff: 10 * ms, Jitter: JitterNone})
	m, err := b.Balance(context.Background(), "000000001")
	if err != nil || m != 100 {
		t.Fatalf("Balance = %v, %v; want 100, nil", m, err)
	}
	if n := len(f.seen()); n != 3 {
		t.Fatalf("attempts = %d, want 3", n)
	}
	if got, want := f.clock.sleeps(), []time.Duration{10 * ms, 20 * ms}; !equalDurations(got, want) {
		t.Fatalf("slept %v, want %v", got, want)
	}
	if st.Calls.Load() != 1 || st.Attempts.Load() != 3 || st.Retries.Load() != 2 || st.GiveUps.Load() != 0 {
		t.Fatalf("stats calls %d attempts %d retries %d giveups %d", st.Calls.Load(), st.Attempts.Load(), st.Retries.Load(), st.GiveUps.Load())
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	f := &flaky{clock: newFakeClock(), fail: always(errDown)}
	var why []GiveUp
	b, _ := wrapFake(f, RetryPolicy{MaxAttempts: 3}, WithoutBudget(),
		WithHooks(Hooks{GiveUp: func(_ bank.Op, _ int, g GiveUp, _ error) { why = append(why, g) }}))
	_, err := b.Statement(context.Background(), bank.StatementRequest{Account: "000000001", Month: "2026-01"})
	if !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("err = %v, want unavailable", err)
	}
	if n := len(f.seen()); n != 3 {
		t.Fatalf("attempts = %d, want 3", n)
	}
	if len(why) != 1 || why[0] != GiveUpAttempts {
		t.Fatalf("give-ups %v, want [attempts]", why)
	}
}

func TestBusinessErrorsAreNotRetried(t *testing.T) {
	for _, err := range []error{
		bank.Errorf(bank.NotFound, "no such account"),
		bank.Errorf(bank.InvalidArgument, "bad"),
		bank.Errorf(bank.IdempotencyKeyReuse, "reused"),
		bank.Errorf(bank.Internal, "bug"),
		bank.Errorf(bank.Unauthenticated, "who"),
		bank.Errorf(bank.PermissionDenied, "no"),
		bank.Errorf(bank.Canceled, "canceled by a proxy"),
		ErrBreakerOpen,
	} {
		f := &flaky{clock: newFakeClock(), fail: always(err)}
		b, _ := wrapFake(f, RetryPolicy{MaxAttempts: 5})
		_, got := b.Deposit(context.Background(), bank.DepositRequest{Account: "000000001", Amount: 1})
		if bank.CodeOf(got) != bank.CodeOf(err) {
			t.Fatalf("%v: got %v", err, got)
		}
		if n := len(f.seen()); n != 1 {
			t.Fatalf("%v: attempts = %d, want 1", err, n)
		}
	}
}

func TestRetryableErrorsAreRetried(t *testing.T) {
	for _, err := range []error{
		errDown,
		bank.Errorf(bank.DeadlineExceeded, "attempt timed out"),
		bank.Errorf(bank.InFlight, "still applying"),
	} {
		f := &flaky{clock: newFakeClock(), fail: failFirst(1, err)}
		b, _ := wrapFake(f, RetryPolicy{})
		if _, e := b.Deposit(context.Background(), bank.DepositRequest{Account: "000000001", Amount: 1}); e != nil {
			t.Fatalf("%v: Deposit = %v", err, e)
		}
		if n := len(f.seen()); n != 2 {
			t.Fatalf("%v: attempts = %d, want 2", err, n)
		}
	}
}

func TestDepositKeyIsMadeOnceAndReused(t *testing.T) {
	f := &flaky{clock: newFakeClock(), fail: failFirst(3, errDown)}
	made := 0
	b, _ := wrapFake(f, RetryPolicy{MaxAttempts: 5},
		WithKeyFunc(func() string { made++; return NewKey() }))
	if _, err := b.Deposit(context.Background(), bank.DepositRequest{Account: "000000001", Amount: 5}); err != nil {
		t.Fatal(err)
	}
	seen := f.seen()
	if len(seen) != 4 || made != 1 {
		t.Fatalf("attempts %d, keys made %d; want 4 and 1", len(seen), made)
	}
	for _, a := range seen {
		if a.key != seen[0].key || bank.ValidateKey(a.key) != nil {
			t.Fatalf("keys differ or are invalid: %q vs %q", a.key, seen[0].key)
		}
	}
	// A key the caller gave is used as it is.
	f2 := &flaky{clock: newFakeClock(), fail: failFirst(1, errDown)}
	b2, _ := wrapFake(f2, RetryPolicy{})
	if _, err := b2.Deposit(context.Background(), bank.DepositRequest{Account: "000000001", Amount: 5, IdempotencyKey: "mine"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range f2.seen() {
		if a.key != "mine" {
			t.Fatalf("key %q, want the caller's", a.key)
		}
	}
	// Two logical deposits get two keys.
	if NewKey() == NewKey() {
		t.Fatal("NewKey repeated itself")
	}
}

// TestDeadlineIsNeverOverrun drives many calls with random attempt costs,
// budgets and jitter against a target that never answers in time, and
// checks that no attempt starts, and no sleep ends, at or after the
// caller's deadline, and that every attempt's own deadline is inside it.
func TestDeadlineIsNeverOverrun(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 300; i++ {
		clk := newFakeClock()
		p := RetryPolicy{
			MaxAttempts:    1 + rnd.IntN(10),
			InitialBackoff: time.Duration(1+rnd.IntN(50)) * ms,
			MaxBackoff:     time.Duration(50+rnd.IntN(200)) * ms,
			Jitter:         Jitter(rnd.IntN(4)),
		}
		if rnd.IntN(2) == 0 {
			p.AttemptTimeout = time.Duration(1+rnd.IntN(80)) * ms
		}
		f := &flaky{clock: clk, cost: time.Duration(rnd.IntN(100)) * ms, fail: always(errDown)}
		b, _ := wrapFake(f, p, WithoutBudget(), WithRand(rand.New(rand.NewPCG(uint64(i), 1))))
		budget := time.Duration(1+rnd.IntN(400)) * ms
		deadline := clk.Now().Add(budget)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		_, err := b.Balance(ctx, "000000001")
		cancel()
		if err == nil {
			t.Fatalf("call %d succeeded against a dead target", i)
		}
		for j, a := range f.seen() {
			if !a.start.Before(deadline) {
				t.Fatalf("call %d (%+v, cost %v, budget %v): attempt %d started %v after the deadline",
					i, p, f.cost, budget, j+1, a.start.Sub(deadline))
			}
			if a.deadline.After(deadline) {
				t.Fatalf("call %d: attempt %d had deadline %v past the caller's", i, j+1, a.deadline.Sub(deadline))
			}
			if p.AttemptTimeout > 0 && a.deadline.Sub(a.start) > p.AttemptTimeout {
				t.Fatalf("call %d: attempt %d had %v, more than the attempt timeout %v", i, j+1, a.deadline.Sub(a.start), p.AttemptTimeout)
			}
		}
		if now := clk.Now(); now.After(deadline) {
			t.Fatalf("call %d (%+v, cost %v): returned %v after the deadline", i, p, f.cost, now.Sub(deadline))
		}
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	clk := newFakeClock()
	// The first attempt hangs past its own 50ms; the second is quick.
	f := &flaky{clock: clk, fail: func(n int) error { return nil }}
	hang := &hangFirst{flaky: f}
	b := Wrap(hang, WithRetry(RetryPolicy{AttemptTimeout: 50 * ms, InitialBackoff: ms, Jitter: JitterNone}),
		WithoutBreaker(), WithClock(clk))
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(time.Second))
	defer cancel()
	if _, err := b.Balance(ctx, "000000001"); err != nil {
		t.Fatalf("Balance = %v, want success on the second attempt", err)
	}
	seen := f.seen()
	if len(seen) != 2 {
		t.Fatalf("attempts = %d, want 2", len(seen))
	}
	if d := seen[0].deadline.Sub(seen[0].start); d != 50*ms {
		t.Fatalf("first attempt had %v, want the attempt timeout 50ms", d)
	}
}

// hangFirst makes the first attempt use up its whole deadline.
type hangFirst struct{ *flaky }

func (h *hangFirst) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if len(h.seen()) == 0 {
		h.cost = time.Hour
		defer func() { h.cost = 0 }()
	}
	return h.flaky.Balance(ctx, acc)
}

func TestCallerCancellationStopsRetrying(t *testing.T) {
	clk := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	f := &flaky{clock: clk, fail: func(n int) error { cancel(); return errDown }}
	b, _ := wrapFake(f, RetryPolicy{MaxAttempts: 10})
	_, err := b.Balance(ctx, "000000001")
	if !errors.Is(err, bank.ErrCanceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	if n := len(f.seen()); n != 1 {
		t.Fatalf("attempts = %d, want 1", n)
	}
}

// TestBudgetCapsRetriesInOutage: during a total outage, with the default
// budget, the calls soon make one attempt each; without it every call makes
// MaxAttempts. After the outage the budget refills and retrying resumes.
func TestBudgetCapsRetriesInOutage(t *testing.T) {
	const calls = 1000
	down := true
	run := func(opts ...Option) (attemptsPerCall float64, st *Stats) {
		f := &flaky{clock: newFakeClock(), fail: func(int) error {
			if down {
				return errDown
			}
			return nil
		}}
		b, st := wrapFake(f, RetryPolicy{MaxAttempts: 4}, opts...)
		for i := 0; i < calls; i++ {
			b.Balance(context.Background(), "000000001")
		}
		return float64(len(f.seen())) / calls, st
	}
	with, st := run()
	without, _ := run(WithoutBudget())
	t.Logf("total outage, %d calls, MaxAttempts 4: %.3f attempts per call with the default budget (%d, %.1f), %.3f without",
		calls, with, DefaultMaxTokens, DefaultTokenRatio, without)
	if without != 4 {
		t.Fatalf("without a budget: %.3f attempts per call, want 4", without)
	}
	// The bucket of 10 drains below its half (5) after 5 failures: the
	// first call makes 4 attempts, the second 1, and every later one 1.
	if got, want := with, float64(calls+3)/calls; got != want {
		t.Fatalf("with the budget: %.4f attempts per call, want %.4f", got, want)
	}
	if st.BudgetExhausted.Load() != calls-1 {
		t.Fatalf("BudgetExhausted = %d, want %d", st.BudgetExhausted.Load(), calls-1)
	}

	// Recovery: successes refill the bucket until retries are allowed again.
	b := NewBudget(10, 0.1)
	for i := 0; i < 20; i++ {
		b.failed()
	}
	if b.Tokens() != 0 || b.failed() {
		t.Fatalf("drained budget has %v tokens and allows a retry", b.Tokens())
	}
	n := 0
	for ; b.Tokens() <= 6; n++ { // after a failure (-1) more than 5 must remain
		b.answered()
	}
	if !b.failed() {
		t.Fatalf("after %d successes (%v tokens) a retry is still refused", n, b.Tokens())
	}
	t.Logf("budget: %d successful calls refill a drained bucket enough to retry again", n)
	down = false
}

func TestSharedBudget(t *testing.T) {
	shared := NewBudget(4, 0.5)
	f := &flaky{clock: newFakeClock(), fail: always(errDown)}
	a, _ := wrapFake(f, RetryPolicy{MaxAttempts: 10}, WithBudget(shared))
	b, _ := wrapFake(f, RetryPolicy{MaxAttempts: 10}, WithBudget(shared))
	a.Balance(context.Background(), "000000001") // 4 → 3 → 2 (≤ 2 stops): 2 attempts
	b.Balance(context.Background(), "000000001") // 2 → 1: 1 attempt
	if n := len(f.seen()); n != 3 {
		t.Fatalf("attempts = %d, want 3: the second client must see the budget the first spent", n)
	}
}

func TestHooksSeeEveryAttemptDelayAndGiveUp(t *testing.T) {
	f := &flaky{clock: newFakeClock(), fail: always(errDown)}
	var attempts, retries, giveups int
	var delays time.Duration
	b, _ := wrapFake(f, RetryPolicy{MaxAttempts: 3, Jitter: JitterNone, InitialBackoff: 10 * ms}, WithoutBudget(), WithHooks(Hooks{
		Attempt: func(op bank.Op, n int, err error) {
			attempts++
			if op != bank.OpDeposit || n != attempts || err == nil {
				t.Errorf("Attempt(%v, %d, %v)", op, n, err)
			}
		},
		Retry:  func(_ bank.Op, _ int, d time.Duration, _ error) { retries++; delays += d },
		GiveUp: func(_ bank.Op, n int, _ GiveUp, _ error) { giveups++ },
	}))
	b.Deposit(context.Background(), bank.DepositRequest{Account: "000000001", Amount: 1})
	if attempts != 3 || retries != 2 || giveups != 1 || delays != 30*ms {
		t.Fatalf("attempts %d retries %d giveups %d delays %v; want 3 2 1 30ms", attempts, retries, giveups, delays)
	}
}

// Several WithHooks add up: each is called, in order.
func TestWithHooksAddUp(t *testing.T) {
	var got []string
	f := &flaky{clock: newFakeClock(), fail: always(errDown)}
	b, _ := wrapFake(f, RetryPolicy{MaxAttempts: 2, Jitter: JitterNone, InitialBackoff: ms}, WithoutBudget(),
		WithHooks(Hooks{Attempt: func(_ bank.Op, n int, _ error) { got = append(got, fmt.Sprint("a", n)) }}),
		WithHooks(Hooks{
			Attempt: func(_ bank.Op, n int, _ error) { got = append(got, fmt.Sprint("b", n)) },
			GiveUp:  func(bank.Op, int, GiveUp, error) { got = append(got, "giveup") },
		}))
	b.Balance(context.Background(), "000000001")
	if want := []string{"a1", "b1", "a2", "b2", "giveup"}; !slices.Equal(got, want) {
		t.Fatalf("hooks called %q, want %q", got, want)
	}
}

// A refusal with a retry-after hint is retried no sooner than the hint,
// however short the backoff; a hint past the caller's deadline ends the
// call at once instead of sleeping in vain.
func TestRetryWaitsForRetryAfter(t *testing.T) {
	refused := bank.WithRetryAfter(bank.Errorf(bank.Unavailable, "overloaded"), 300*ms)
	f := &flaky{clock: newFakeClock(), fail: failFirst(1, refused)}
	b, st := wrapFake(f, RetryPolicy{InitialBackoff: ms, Jitter: JitterNone})
	if _, err := b.Balance(context.Background(), "000000001"); err != nil {
		t.Fatal(err)
	}
	if s := f.clock.sleeps(); len(s) != 1 || s[0] != 300*ms {
		t.Fatalf("slept %v before the retry, want [300ms] (the hint, not the 1ms backoff)", s)
	}
	if st.Retries.Load() != 1 {
		t.Fatalf("retries %d, want 1", st.Retries.Load())
	}
	// A backoff longer than the hint stays as it was.
	f = &flaky{clock: newFakeClock(), fail: failFirst(1, bank.WithRetryAfter(bank.Errorf(bank.Unavailable, "overloaded"), ms))}
	b, _ = wrapFake(f, RetryPolicy{InitialBackoff: 50 * ms, Jitter: JitterNone})
	if _, err := b.Balance(context.Background(), "000000001"); err != nil {
		t.Fatal(err)
	}
	if s := f.clock.sleeps(); len(s) != 1 || s[0] != 50*ms {
		t.Fatalf("slept %v, want [50ms]", s)
	}
	// A hint past the deadline: no sleep, no retry, the refusal returned.
	f = &flaky{clock: newFakeClock(), fail: always(bank.WithRetryAfter(bank.Errorf(bank.Unavailable, "overloaded"), 2*time.Second))}
	b, st = wrapFake(f, RetryPolicy{InitialBackoff: ms, Jitter: JitterNone})
	ctx, cancel := context.WithDeadline(context.Background(), f.clock.Now().Add(time.Second))
	defer cancel()
	_, err := b.Balance(ctx, "000000001")
	if !errors.Is(err, bank.ErrUnavailable) || len(f.seen()) != 1 || len(f.clock.sleeps()) != 0 || st.DeadlineStops.Load() != 1 {
		t.Fatalf("hint past the deadline: err %v, %d attempts, slept %v; want the refusal after 1 attempt and no sleep", err, len(f.seen()), f.clock.sleeps())
	}
}
