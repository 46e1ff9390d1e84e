package netrpcbank_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/bank"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

func TestErrorConventionRoundTrip(t *testing.T) {
	for _, code := range bank.Codes() {
		for _, msg := range []string{"", "plain", "with: colons: inside", "igbank:not_found:nested"} {
			in := &bank.Error{Code: code, Message: msg}
			s := netrpcbank.EncodeError(in)
			if want := "igbank:" + code.String() + ":" + msg; s != want {
				t.Fatalf("EncodeError(%v) = %q, want %q", in, s, want)
			}
			out, ok := netrpcbank.DecodeError(s)
			var be *bank.Error
			if !ok || !errors.As(out, &be) || be.Code != code || be.Message != msg {
				t.Fatalf("DecodeError(%q) = %#v, %t; want code %v message %q", s, out, ok, code, msg)
			}
		}
	}
}

func TestEncodeError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("disk on fire"), "igbank:internal:"}, // the server's business
		{&bank.Error{Code: bank.Internal, Message: "panic in IGBank.Balance", Err: errors.New("nil map")}, "igbank:internal:panic in IGBank.Balance"},
		{context.DeadlineExceeded, "igbank:deadline_exceeded:context deadline exceeded"},
		{fmt.Errorf("wrapped: %w", context.Canceled), "igbank:canceled:wrapped: context canceled"},
		{bank.FromContext(context.Background(), errors.New("conn reset")), "igbank:unavailable:"},
		{&bank.Error{Code: bank.NotFound, Message: "m", Err: errors.New("cause")}, "igbank:not_found:m: cause"},
		{&bank.Error{Code: bank.OK, Message: "odd"}, "igbank:internal:odd"},
		{fmt.Errorf("ctx: %w", bank.Errorf(bank.InFlight, "busy")), "igbank:in_flight:busy"},
	} {
		if got := netrpcbank.EncodeError(tc.err); got != tc.want {
			t.Errorf("EncodeError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestDecodeErrorOutsideConvention(t *testing.T) {
	for _, s := range []string{"", "igbank", "igbank:", "igbank:not_found", "igbank::msg", "IGBANK:not_found:x", "rpc: can't find method IGBank.X", "unexpected EOF"} {
		if err, ok := netrpcbank.DecodeError(s); ok {
			t.Errorf("DecodeError(%q) = %v, true; want not ok", s, err)
		}
	}
	for _, s := range []string{"igbank:teapot:short and stout", "igbank:ok:but failed"} {
		err, ok := netrpcbank.DecodeError(s)
		if !ok || !errors.Is(err, bank.ErrInternal) || !strings.Contains(err.Error(), "short and stout") && !strings.Contains(err.Error(), "but failed") {
			t.Errorf("DecodeError(%q) = %v, %t; want internal keeping the message", s, err, ok)
		}
	}
}

// FuzzDecodeError: no input panics; whatever decodes is a *bank.Error with
// a known, non-OK code; and what EncodeError writes decodes to the same
// code.
func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{"igbank:not_found:account 000000101 does not exist", "igbank:in_flight:", "igbank:teapot:x", "igbank:ok:", "igbank:", "rpc: x", "igbank:::", "igbank:internal:igbank:internal:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err, ok := netrpcbank.DecodeError(s)
		if !ok {
			if err != nil {
				t.Fatalf("DecodeError(%q) returned an error with ok false", s)
			}
			return
		}
		var be *bank.Error
		if !errors.As(err, &be) || be.Code == bank.OK || be.Code.String() == "" {
			t.Fatalf("DecodeError(%q) = %#v", s, err)
		}
		again, ok := netrpcbank.DecodeError(netrpcbank.EncodeError(err))
		if !ok || bank.CodeOf(again) != be.Code {
			t.Fatalf("re-encoding %v gave %v", err, again)
		}
	})
}
