package bank_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/igbank/igbank/common/bank"
)

func TestDetail(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("plain"), ""}, // not a bank error: Internal, and its text is the server's
		{fmt.Errorf("ctx: %w", context.Canceled), "ctx: context canceled"},
		{bank.Errorf(bank.NotFound, "account %s does not exist", "000000001"), "account 000000001 does not exist"},
		{bank.FromContext(context.Background(), context.DeadlineExceeded), "context deadline exceeded"},
		{&bank.Error{Code: bank.Unavailable, Message: "dial", Err: errors.New("dial tcp 10.0.0.7:5432: refused")}, "dial"},
		{&bank.Error{Code: bank.Internal, Message: "panic in Deposit", Err: errors.New("nil map")}, "panic in Deposit"},
		{bank.Wrap(bank.Unavailable, errors.New("dial tcp 10.0.0.7:5432: refused")), ""},
		{&bank.Error{Code: bank.InvalidArgument, Message: "bad key", Err: errors.New("byte 3")}, "bad key: byte 3"},
		{fmt.Errorf("wrapped: %w", bank.Errorf(bank.InFlight, "busy")), "busy"},
		{bank.ErrInternal, ""},
	} {
		if got := bank.Detail(tc.err); got != tc.want {
			t.Errorf("Detail(%v) = %q, want %q", tc.err, got, tc.want)
		}
		// The round trip a transport makes keeps the code and the detail.
		if c := bank.CodeOf(tc.err); c != bank.OK {
			if back := bank.FromCode(c, bank.Detail(tc.err)); bank.CodeOf(back) != c || bank.Detail(back) != tc.want {
				t.Errorf("round trip of %v gave %v", tc.err, back)
			}
		}
	}
}

// What a client rebuilds from the code and Detail reads as the server's
// error did, for every code and a message, a cause, both or neither; but
// the cause of an Internal or Unavailable error stays on the server.
func TestDetailRoundTripReadsTheSame(t *testing.T) {
	cause := errors.New("connection refused")
	for _, c := range bank.Codes() {
		for _, e := range []*bank.Error{
			{Code: c, Message: "store down"},
			{Code: c, Err: cause},
			{Code: c, Message: "store down", Err: cause},
			{Code: c},
		} {
			want := e.Error()
			if c == bank.Internal || c == bank.Unavailable {
				want = (&bank.Error{Code: c, Message: e.Message}).Error()
			}
			if got := bank.FromCode(c, bank.Detail(e)).Error(); got != want {
				t.Errorf("FromCode(%v, Detail(%q)) reads %q, want %q", c, e, got, want)
			}
		}
	}
	e := &bank.Error{Code: bank.NotFound, Message: "no account", Err: cause}
	if got, want := bank.FromCode(e.Code, bank.Detail(e)).Error(), "not_found: no account: connection refused"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
