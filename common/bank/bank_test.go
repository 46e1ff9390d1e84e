package bank_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

func TestMoneyString(t *testing.T) {
	for _, tc := range []struct {
		m    bank.Money
		want string
	}{
		{0, "0.00"},
		{5, "0.05"},
		{-5, "-0.05"},
		{99, "0.99"},
		{100, "1.00"},
		{-100, "-1.00"},
		{22077, "220.77"},
		{-22077, "-220.77"},
		{bank.MaxDeposit, "10000000.00"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
		{math.MinInt64 + 1, "-92233720368547758.07"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("Money(%d).String() = %q, want %q", int64(tc.m), got, tc.want)
		}
	}
}

func TestCodeNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range append([]bank.Code{bank.OK}, bank.Codes()...) {
		name := c.String()
		if name == "" || seen[name] || strings.HasPrefix(name, "code(") {
			t.Fatalf("code %d has a bad or repeated name %q", uint8(c), name)
		}
		seen[name] = true
		got, ok := bank.ParseCode(name)
		if !ok || got != c {
			t.Fatalf("ParseCode(%q) = %v, %t; want %d", name, got, ok, uint8(c))
		}
	}
	if len(bank.Codes()) != 10 || bank.Codes()[0] != bank.NotFound {
		t.Fatalf("Codes() = %v", bank.Codes())
	}
	if got := bank.Code(200).String(); got != "code(200)" {
		t.Fatalf("Code(200).String() = %q", got)
	}
	for _, name := range []string{"", "NOT_FOUND", "notfound", "code(200)", "not_found "} {
		if c, ok := bank.ParseCode(name); ok {
			t.Fatalf("ParseCode(%q) = %v, true", name, c)
		}
	}
	// The numeric values are part of the raw-sockets wire format.
	for c, n := range map[bank.Code]uint8{bank.OK: 0, bank.NotFound: 1, bank.InvalidArgument: 2, bank.IdempotencyKeyReuse: 3, bank.InFlight: 4,
		bank.Unavailable: 5, bank.DeadlineExceeded: 6, bank.Unauthenticated: 7, bank.PermissionDenied: 8, bank.Internal: 9, bank.Canceled: 10} {
		if uint8(c) != n {
			t.Fatalf("%s = %d, want %d", c, uint8(c), n)
		}
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range bank.Codes() {
		want := c == bank.Unavailable || c == bank.DeadlineExceeded || c == bank.InFlight
		if c.Retryable() != want {
			t.Errorf("%s.Retryable() = %t", c, !want)
		}
	}
}

func sentinel(c bank.Code) *bank.Error {
	for _, s := range []*bank.Error{bank.ErrNotFound, bank.ErrInvalidArgument, bank.ErrIdempotencyKeyReuse, bank.ErrInFlight,
		bank.ErrUnavailable, bank.ErrDeadlineExceeded, bank.ErrUnauthenticated, bank.ErrPermissionDenied, bank.ErrInternal, bank.ErrCanceled} {
		if s.Code == c {
			return s
		}
	}
	return nil
}

func TestErrorsIsAndAs(t *testing.T) {
	for _, c := range bank.Codes() {
		s := sentinel(c)
		if s == nil {
			t.Fatalf("no sentinel for %s", c)
		}
		err := bank.Errorf(c, "detail %d", 7)
		wrapped := fmt.Errorf("calling: %w", err)
		for _, e := range []error{err, wrapped, s} {
			if !errors.Is(e, s) {
				t.Fatalf("errors.Is(%v, sentinel %s) = false", e, c)
			}
			var be *bank.Error
			if !errors.As(e, &be) || be.Code != c {
				t.Fatalf("errors.As(%v) = %v", e, be)
			}
			if bank.CodeOf(e) != c {
				t.Fatalf("CodeOf(%v) = %v", e, bank.CodeOf(e))
			}
		}
		for _, other := range bank.Codes() {
			if other != c && errors.Is(wrapped, sentinel(other)) {
				t.Fatalf("%v matches the sentinel of %s", wrapped, other)
			}
		}
		// Only sentinels (no message, no cause) match by code: an error
		// with a message is a target only for itself.
		if errors.Is(err, bank.Errorf(c, "detail 7")) {
			t.Fatalf("two errors with messages matched")
		}
		if !errors.Is(err, err) {
			t.Fatalf("an error does not match itself")
		}
		if got := err.Error(); got != c.String()+": detail 7" {
			t.Fatalf("Error() = %q", got)
		}
	}
	if errors.Is(errors.New("not_found"), bank.ErrNotFound) {
		t.Fatalf("a plain error matched a sentinel by its text")
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("connection reset")
	for _, tc := range []struct {
		err  *bank.Error
		want string
	}{
		{&bank.Error{Code: bank.NotFound}, "not_found"},
		{&bank.Error{Code: bank.NotFound, Message: "m"}, "not_found: m"},
		{&bank.Error{Code: bank.Unavailable, Err: cause}, "unavailable: connection reset"},
		{&bank.Error{Code: bank.Unavailable, Message: "m", Err: cause}, "unavailable: m: connection reset"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	err := &bank.Error{Code: bank.Unavailable, Err: cause}
	if !errors.Is(err, cause) || errors.Unwrap(err) != cause {
		t.Fatalf("the cause is not reachable")
	}
}

func TestFromCode(t *testing.T) {
	if err := bank.FromCode(bank.OK, "ignored"); err != nil {
		t.Fatalf("FromCode(OK) = %v", err)
	}
	for _, c := range bank.Codes() {
		err := bank.FromCode(c, "msg")
		var be *bank.Error
		if !errors.As(err, &be) || be.Code != c || be.Message != "msg" || !errors.Is(err, sentinel(c)) {
			t.Fatalf("FromCode(%s) = %#v", c, err)
		}
	}
	err := bank.FromCode(200, "from the future")
	if !errors.Is(err, bank.ErrInternal) || !strings.Contains(err.Error(), "200") || !strings.Contains(err.Error(), "from the future") {
		t.Fatalf("FromCode(200) = %v, want internal naming the code and keeping the message", err)
	}
}

func TestCodeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bank.Code
	}{
		{nil, bank.OK},
		{context.DeadlineExceeded, bank.DeadlineExceeded},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), bank.DeadlineExceeded},
		{context.Canceled, bank.Canceled},
		{fmt.Errorf("x: %w", context.Canceled), bank.Canceled},
		{io.EOF, bank.Internal},
		{errors.New("boom"), bank.Internal},
		{bank.Wrap(bank.Unavailable, io.EOF), bank.Unavailable},
		{fmt.Errorf("y: %w", bank.ErrPermissionDenied), bank.PermissionDenied},
		// A bank error wins over a context error it wraps.
		{&bank.Error{Code: bank.Unavailable, Err: context.Canceled}, bank.Unavailable},
	} {
		if got := bank.CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestWrap(t *testing.T) {
	if bank.Wrap(bank.Unavailable, nil) != nil {
		t.Fatal("Wrap(nil) != nil")
	}
	err := bank.Wrap(bank.Unavailable, io.ErrUnexpectedEOF)
	if !errors.Is(err, bank.ErrUnavailable) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Wrap = %v", err)
	}
	nf := bank.Errorf(bank.NotFound, "x")
	if got := bank.Wrap(bank.Unavailable, nf); got != nf {
		t.Fatalf("Wrap changed a bank error: %v", got)
	}
}

func TestFromContext(t *testing.T) {
	live := context.Background()
	if bank.FromContext(live, nil) != nil {
		t.Fatal("FromContext(nil) != nil")
	}
	// A live context: connection failures are Unavailable, keeping the cause.
	err := bank.FromContext(live, io.EOF)
	if !errors.Is(err, bank.ErrUnavailable) || !errors.Is(err, io.EOF) {
		t.Fatalf("FromContext(live, EOF) = %v", err)
	}
	// A bank error passes through.
	if err := bank.FromContext(live, bank.ErrNotFound); !errors.Is(err, bank.ErrNotFound) {
		t.Fatalf("FromContext(live, not found) = %v", err)
	}
	// A context error seen with a live context (a nested deadline).
	if err := bank.FromContext(live, fmt.Errorf("x: %w", context.DeadlineExceeded)); !errors.Is(err, bank.ErrDeadlineExceeded) {
		t.Fatalf("FromContext(live, deadline) = %v", err)
	}
	if err := bank.FromContext(live, context.Canceled); !errors.Is(err, bank.ErrCanceled) {
		t.Fatalf("FromContext(live, canceled) = %v", err)
	}

	// An ended context wins over whatever the transport reported.
	expired, cancel := context.WithDeadline(live, time.Now().Add(-time.Second))
	defer cancel()
	err = bank.FromContext(expired, io.EOF)
	if !errors.Is(err, bank.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FromContext(expired, EOF) = %v", err)
	}
	canceled, cancel2 := context.WithCancel(live)
	cancel2()
	err = bank.FromContext(canceled, errors.New("use of closed connection"))
	if !errors.Is(err, bank.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("FromContext(canceled, ...) = %v", err)
	}

	// A deadline that has passed while ctx.Err() is still nil (its timer
	// has not fired yet) is a deadline, not a broken connection: a gRPC
	// server resets the stream at the same deadline and can win that race.
	err = bank.FromContext(timerLate{live}, errors.New("stream error: CANCEL"))
	if !errors.Is(err, bank.ErrDeadlineExceeded) {
		t.Fatalf("FromContext(deadline passed, timer late, ...) = %v", err)
	}
}

// timerLate is a context whose deadline has passed but whose Err is nil.
type timerLate struct{ context.Context }

func (timerLate) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestValidateAccount(t *testing.T) {
	for _, acc := range []bank.AccountNo{"000000001", "999999999", "000000000", "123456789"} {
		if err := bank.ValidateAccount(acc); err != nil {
			t.Errorf("ValidateAccount(%q) = %v", acc, err)
		}
	}
	for _, acc := range []bank.AccountNo{"", "1", "12345678", "1234567890", "00000000a", " 00000001", "-00000001", "+00000001",
		"0000\x0000001", "٠٠٠٠٠٠٠٠١", "00000000１", bank.AccountNo(strings.Repeat("9", 10_000))} {
		err := bank.ValidateAccount(acc)
		if !errors.Is(err, bank.ErrInvalidArgument) {
			t.Errorf("ValidateAccount(%q) = %v, want invalid argument", acc, err)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("error message for a %d-byte account is %d bytes", len(acc), len(err.Error()))
		}
	}
}

func TestValidateMonth(t *testing.T) {
	for _, m := range []bank.Month{"2026-01", "2026-12", "1970-01", "0001-01", "9999-12"} {
		if err := bank.ValidateMonth(m); err != nil {
			t.Errorf("ValidateMonth(%q) = %v", m, err)
		}
	}
	for _, m := range []bank.Month{"", "2026", "2026-1", "2026-00", "2026-13", "26-01", "2026/01", "2026-01-01", " 2026-01", "2026-01 ", "２０２６-01", "-026-01", "+2026-01"} {
		if err := bank.ValidateMonth(m); !errors.Is(err, bank.ErrInvalidArgument) {
			t.Errorf("ValidateMonth(%q) = %v, want invalid argument", m, err)
		}
	}
}

func TestMonthRange(t *testing.T) {
	for _, tc := range []struct {
		m          bank.Month
		start, end time.Time
	}{
		{"2026-01", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-12", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-02", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
	} {
		start, end, err := tc.m.Range()
		if err != nil || !start.Equal(tc.start) || !end.Equal(tc.end) || start.Location() != time.UTC {
			t.Errorf("%s.Range() = %v, %v, %v", tc.m, start, end, err)
		}
	}
	// MonthOf converts to UTC first.
	east := time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600))
	if got := bank.MonthOf(east); got != "2026-02" {
		t.Fatalf("MonthOf(%v) = %s, want 2026-02", east, got)
	}
}

func TestValidateKey(t *testing.T) {
	for _, k := range []string{"a", "!", "~", strings.Repeat("k", bank.MaxKeyLen), "0f8e-4a1b_X.Y/Z:=+"} {
		if err := bank.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", " ", "a b", "tab\t", "\x00", "\x7f", "é", "\xff", strings.Repeat("k", bank.MaxKeyLen+1), strings.Repeat("k", 1<<20)} {
		err := bank.ValidateKey(k)
		if !errors.Is(err, bank.ErrInvalidArgument) {
			t.Errorf("ValidateKey(%q) = %v, want invalid argument", clip(k), err)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("error message for a %d-byte key is %d bytes", len(k), len(err.Error()))
		}
	}
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

func TestValidateAmountAndDeposit(t *testing.T) {
	for _, a := range []bank.Money{1, 99, bank.MaxDeposit} {
		if err := bank.ValidateAmount(a); err != nil {
			t.Errorf("ValidateAmount(%d) = %v", a, err)
		}
	}
	for _, a := range []bank.Money{0, -1, bank.MaxDeposit + 1, math.MaxInt64, math.MinInt64} {
		if err := bank.ValidateAmount(a); !errors.Is(err, bank.ErrInvalidArgument) {
			t.Errorf("ValidateAmount(%d) = %v", a, err)
		}
	}
	ok := bank.DepositRequest{Account: "000000001", Amount: 1, IdempotencyKey: "k"}
	if err := bank.ValidateDeposit(ok); err != nil {
		t.Fatalf("ValidateDeposit(%+v) = %v", ok, err)
	}
	for _, bad := range []bank.DepositRequest{
		{Account: "1", Amount: 1, IdempotencyKey: "k"},
		{Account: "000000001", Amount: 0, IdempotencyKey: "k"},
		{Account: "000000001", Amount: 1},
	} {
		if err := bank.ValidateDeposit(bad); !errors.Is(err, bank.ErrInvalidArgument) {
			t.Errorf("ValidateDeposit(%+v) = %v", bad, err)
		}
	}
}

func TestAddBalance(t *testing.T) {
	for _, tc := range []struct {
		balance, amount bank.Money
		want            bank.Money
		ok              bool
	}{
		{0, 1, 1, true},
		{bank.MaxBalance - 1, 1, bank.MaxBalance, true},
		{bank.MaxBalance, 1, 0, false},
		{bank.MaxBalance - bank.MaxDeposit + 1, bank.MaxDeposit, 0, false},
		{bank.MaxBalance - bank.MaxDeposit, bank.MaxDeposit, bank.MaxBalance, true},
		{-5, 5, 0, true},
	} {
		got, err := bank.AddBalance(tc.balance, tc.amount)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("AddBalance(%d, %d) = %d, %v", tc.balance, tc.amount, got, err)
		}
		if err != nil && !errors.Is(err, bank.ErrInvalidArgument) {
			t.Errorf("AddBalance overflow error = %v, want invalid argument", err)
		}
	}
}

// A deposit whose deadline has already passed is not applied and is
// deadline_exceeded.
func TestDepositAfterDeadlineIsNotApplied(t *testing.T) {
	s := bank.NewService(ledger.NewMemory(1))
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.Deposit(ctx, bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 100, IdempotencyKey: "late-1"})
	if !errors.Is(err, bank.ErrDeadlineExceeded) {
		t.Fatalf("deposit after its deadline: %v, want deadline_exceeded", err)
	}
	if m, _ := s.Balance(context.Background(), ledger.SeedAccount(1)); m != ledger.SeedBalance(1) {
		t.Fatalf("balance %v after a late deposit, want %v", m, ledger.SeedBalance(1))
	}
}
