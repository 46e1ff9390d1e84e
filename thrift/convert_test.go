package thriftbank

import (
	"errors"
	"testing"

	"github.com/igbank/igbank/common/bank"
)

// Every code survives toException and fromException, and the exception's
// message is bank.Detail, so the client's error reads as the server's
// (without the cause of the server's own failures).
func TestExceptionRoundTrip(t *testing.T) {
	cause := errors.New("connection refused")
	for _, c := range bank.Codes() {
		for _, err := range []*bank.Error{
			{Code: c, Message: "store down"},
			{Code: c, Err: cause},
			{Code: c, Message: "store down", Err: cause},
		} {
			got, ok := fromException(toException(err))
			want := bank.FromCode(c, bank.Detail(err)).Error()
			if !ok || bank.CodeOf(got) != c || got.Error() != want {
				t.Errorf("%q came back as %q (%t)", err, got, ok)
			}
		}
	}
	if got, ok := fromException(toException(errors.New("boom"))); !ok || got.Error() != "internal" {
		t.Errorf("a plain error came back as %q (%t)", got, ok)
	}
}
