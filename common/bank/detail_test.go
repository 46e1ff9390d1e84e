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
		{errors.New("plain"), "plain"},
		{bank.Errorf(bank.NotFound, "account %s does not exist", "000000001"), "account 000000001 does not exist"},
		{bank.FromContext(context.Background(), context.DeadlineExceeded), "context deadline exceeded"},
		{&bank.Error{Code: bank.Unavailable, Message: "dial", Err: errors.New("refused")}, "dial: refused"},
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
