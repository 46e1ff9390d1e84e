package connectbank

import (
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/proto/pbbank"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Every bank code survives connectError and fromError.
func TestErrorRoundTrip(t *testing.T) {
	for _, c := range bank.Codes() {
		err := fromError(context.Background(), wire(connectError(bank.Errorf(c, "m %s", c)).(*connect.Error)))
		var be *bank.Error
		if !errors.As(err, &be) || be.Code != c || be.Message != "m "+c.String() {
			t.Errorf("%v came back as %#v", c, err)
		}
	}
}

// The Connect message is bank.Detail: the restored error reads as the
// server's, with the cause (but not of the server's own failures) and
// without the code twice.
func TestErrorMessageIsDetail(t *testing.T) {
	cause := errors.New("connection refused")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&bank.Error{Code: bank.NotFound, Err: cause}, "not_found: connection refused"},
		{&bank.Error{Code: bank.NotFound, Message: "no account", Err: cause}, "not_found: no account: connection refused"},
		{&bank.Error{Code: bank.Unavailable, Message: "store down", Err: cause}, "unavailable: store down"},
		{&bank.Error{Code: bank.Unavailable, Err: cause}, "unavailable"},
		{errors.New("boom"), "internal"},
	} {
		ce := connectError(tc.err).(*connect.Error)
		if ce.Message() != bank.Detail(tc.err) {
			t.Errorf("connectError(%v) has message %q, want %q", tc.err, ce.Message(), bank.Detail(tc.err))
		}
		if got := fromError(context.Background(), wire(ce)); got.Error() != tc.want {
			t.Errorf("connectError(%v) came back as %q, want %q", tc.err, got, tc.want)
		}
	}
}

// FuzzFromError gives the client's error mapping an ErrorInfo detail of
// arbitrary bytes and an arbitrary code, as a broken or hostile server
// could send: it must not panic and must give a bank error of a known code.
func FuzzFromError(f *testing.F) {
	for _, c := range bank.Codes() {
		b, _ := proto.Marshal(pbbank.ErrorInfo(c))
		f.Add(uint32(pbbank.StatusCode(c)), b)
	}
	f.Add(uint32(99), []byte{0xff, 0x01})
	f.Add(uint32(0), []byte{})
	f.Fuzz(func(t *testing.T, code uint32, detail []byte) {
		ce := connect.NewError(connect.Code(code), errors.New("fuzz"))
		d, err := connect.NewErrorDetail(&anypb.Any{TypeUrl: "type.googleapis.com/google.rpc.ErrorInfo", Value: detail})
		if err == nil {
			ce.AddDetail(d)
		}
		got := fromError(context.Background(), wire(ce))
		var be *bank.Error
		if !errors.As(got, &be) || be.Code == bank.OK || strings.HasPrefix(be.Code.String(), "code(") {
			t.Fatalf("fromError gave %#v", got)
		}
		var info errdetails.ErrorInfo
		if proto.Unmarshal(detail, &info) == nil {
			if c, ok := pbbank.CodeFromErrorInfo(&info); ok && be.Code != c {
				t.Fatalf("detail names %v, got %v", c, be.Code)
			}
		}
	})
}

// wire makes ce look as it does on the client when a server sent it.
func wire(ce *connect.Error) *connect.Error {
	w := connect.NewWireError(ce.Code(), errors.New(ce.Message()))
	for _, d := range ce.Details() {
		w.AddDetail(d)
	}
	return w
}

// A failure the server did not send is the call's own: connect-go reports a
// reset connection as Canceled and a cut-off response as Internal, but the
// caller did not cancel and the server did not fail, so both are
// Unavailable and retryable; a caller's ended context still wins.
func TestLocalErrorsAreUnavailable(t *testing.T) {
	for _, code := range []connect.Code{connect.CodeCanceled, connect.CodeInternal, connect.CodeUnavailable, connect.CodeUnknown} {
		err := fromError(context.Background(), connect.NewError(code, errors.New("read: connection reset by peer")))
		if !errors.Is(err, bank.ErrUnavailable) {
			t.Errorf("local %v came back as %v, want unavailable", code, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := fromError(ctx, connect.NewError(connect.CodeCanceled, context.Canceled)); !errors.Is(err, bank.ErrCanceled) {
		t.Errorf("canceled caller got %v, want canceled", err)
	}
}
