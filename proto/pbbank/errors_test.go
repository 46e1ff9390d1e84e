package pbbank_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/proto/pbbank"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Every bank code survives the trip through a status with its ErrorInfo,
// message included, and without the ErrorInfo the status code alone gives
// the same bank code back.
func TestStatusRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, c := range bank.Codes() {
		err := pbbank.Status(bank.Errorf(c, "detail of %s", c))
		st := status.Convert(err)
		if st.Code() != pbbank.StatusCode(c) || st.Message() != "detail of "+c.String() {
			t.Errorf("%v: status %v %q", c, st.Code(), st.Message())
		}
		got := pbbank.FromStatus(ctx, err)
		var be *bank.Error
		if !errors.As(got, &be) || be.Code != c || be.Message != "detail of "+c.String() {
			t.Errorf("%v: restored as %#v", c, got)
		}
		if back := pbbank.BankCode(pbbank.StatusCode(c)); back != c {
			t.Errorf("%v: status code %v maps back to %v", c, pbbank.StatusCode(c), back)
		}
	}
	if pbbank.Status(nil) != nil || pbbank.FromStatus(ctx, nil) != nil {
		t.Fatal("nil errors must stay nil")
	}
}

// The status message is bank.Detail: the cause travels with the message,
// and an error with a cause only does not send its code in the text, so the
// restored error reads as the server's (no "unavailable: unavailable: ...").
func TestStatusMessageIsDetail(t *testing.T) {
	cause := errors.New("connection refused")
	for _, tc := range []struct {
		err  error
		want string // the client's err.Error()
	}{
		{&bank.Error{Code: bank.Unavailable, Message: "store down"}, "unavailable: store down"},
		{&bank.Error{Code: bank.Unavailable, Err: cause}, "unavailable"},
		{&bank.Error{Code: bank.Unavailable, Message: "store down", Err: cause}, "unavailable: store down"},
		{&bank.Error{Code: bank.NotFound, Message: "no account", Err: cause}, "not_found: no account: connection refused"},
		{bank.ErrNotFound, "not_found"},
		{errors.New("boom"), "internal"},
	} {
		err := pbbank.Status(tc.err)
		if msg := status.Convert(err).Message(); msg != bank.Detail(tc.err) {
			t.Errorf("Status(%v) has message %q, want %q", tc.err, msg, bank.Detail(tc.err))
		}
		if got := pbbank.FromStatus(context.Background(), err); got.Error() != tc.want {
			t.Errorf("Status(%v) restored as %q, want %q", tc.err, got, tc.want)
		}
	}
}

// The ErrorInfo decides, not the status code: a proxy may rewrite the code
// but the detail names the exact bank error.
func TestErrorInfoWinsOverStatusCode(t *testing.T) {
	st, _ := status.New(codes.Unavailable, "reused").WithDetails(pbbank.ErrorInfo(bank.IdempotencyKeyReuse))
	if err := pbbank.FromStatus(context.Background(), st.Err()); !errors.Is(err, bank.ErrIdempotencyKeyReuse) {
		t.Fatalf("got %v", err)
	}
	// An ErrorInfo of another domain is ignored.
	st, _ = status.New(codes.NotFound, "x").WithDetails(&errdetails.ErrorInfo{Reason: "INTERNAL", Domain: "example.com"})
	if err := pbbank.FromStatus(context.Background(), st.Err()); !errors.Is(err, bank.ErrNotFound) {
		t.Fatalf("got %v", err)
	}
}

// A status without a detail, when the caller's context has ended, is the
// caller's deadline or cancellation; other failures keep their cause.
func TestFromStatusClientSide(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	err := pbbank.FromStatus(ctx, status.Error(codes.DeadlineExceeded, "context deadline exceeded"))
	if !errors.Is(err, bank.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	raw := status.Error(codes.Unavailable, "connection refused")
	err = pbbank.FromStatus(context.Background(), raw)
	if !errors.Is(err, bank.ErrUnavailable) || !errors.Is(err, raw) {
		t.Fatalf("got %v", err)
	}
	if err := pbbank.FromStatus(context.Background(), errors.New("not a status")); !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if err := pbbank.FromStatus(context.Background(), status.Error(codes.Unimplemented, "no")); !errors.Is(err, bank.ErrInternal) {
		t.Fatalf("got %v", err)
	}
}

func TestStatementRoundTrip(t *testing.T) {
	st := bank.Statement{Account: ledger.SeedAccount(5), Month: "2026-11", Opening: 100, Closing: 350,
		Transactions: []bank.Transaction{
			{ID: 1, Time: time.Date(2026, 11, 2, 3, 4, 5, 6, time.UTC), Amount: 200, BalanceAfter: 300, IdempotencyKey: "a"},
			{ID: 2, Time: time.Date(2026, 11, 30, 23, 59, 59, 999999999, time.UTC), Amount: 50, BalanceAfter: 350, IdempotencyKey: "b"},
		}}
	got := pbbank.StatementFromProto(pbbank.StatementToProto(st))
	if got.Account != st.Account || got.Month != st.Month || got.Opening != st.Opening || got.Closing != st.Closing || len(got.Transactions) != 2 {
		t.Fatalf("got %+v", got)
	}
	for i := range st.Transactions {
		a, b := st.Transactions[i], got.Transactions[i]
		if a.ID != b.ID || !a.Time.Equal(b.Time) || b.Time.Location() != time.UTC || a.Amount != b.Amount || a.BalanceAfter != b.BalanceAfter || a.IdempotencyKey != b.IdempotencyKey {
			t.Fatalf("transaction %d: %+v, want %+v", i, b, a)
		}
	}
	req := bank.DepositRequest{Account: "000000001", Amount: 5, IdempotencyKey: "k"}
	if pbbank.DepositRequestFromProto(pbbank.DepositRequestToProto(req)) != req {
		t.Fatal("deposit request does not round-trip")
	}
	rc := bank.DepositReceipt{TransactionID: 9, Balance: 77, Replayed: true}
	if pbbank.ReceiptFromProto(pbbank.ReceiptToProto(rc)) != rc {
		t.Fatal("receipt does not round-trip")
	}
}

// FuzzFromStatus feeds arbitrary google.rpc.Status bytes (as a hostile or
// broken peer could send in grpc-status-details-bin) to the client's error
// mapping: it must never panic and must always give a bank error with a
// known code, the ErrorInfo's when that names one.
func FuzzFromStatus(f *testing.F) {
	for _, c := range bank.Codes() {
		st, _ := status.New(pbbank.StatusCode(c), "m").WithDetails(pbbank.ErrorInfo(c))
		b, _ := proto.Marshal(st.Proto())
		f.Add(b)
	}
	shed, _ := status.New(codes.Unavailable, "overloaded").WithDetails(pbbank.ErrorInfo(bank.Unavailable), pbbank.RetryInfo(40*time.Millisecond))
	b0, _ := proto.Marshal(shed.Proto())
	f.Add(b0)
	other, _ := anypb.New(&errdetails.ErrorInfo{Reason: strings.Repeat("X", 100), Domain: pbbank.Domain})
	b, _ := proto.Marshal(&spb.Status{Code: 99, Message: "odd", Details: []*anypb.Any{other, {TypeUrl: "type.googleapis.com/google.rpc.ErrorInfo", Value: []byte{0xff}}}})
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var sp spb.Status
		if proto.Unmarshal(data, &sp) != nil {
			return
		}
		if sp.Code == 0 {
			sp.Code = int32(codes.Unknown) // a status error always has a non-OK code
		}
		err := pbbank.FromStatus(context.Background(), status.ErrorProto(&sp))
		var be *bank.Error
		if !errors.As(err, &be) {
			t.Fatalf("FromStatus gave %#v, not a bank error", err)
		}
		if be.Code == bank.OK || be.Code.String() == "" || strings.HasPrefix(be.Code.String(), "code(") {
			t.Fatalf("FromStatus gave code %v", be.Code)
		}
		if d, ok := bank.RetryAfter(err); ok && (d <= 0 || d > bank.MaxRetryAfter) {
			t.Fatalf("FromStatus gave a hint of %v", d)
		}
	})
}

// A refusal's retry-after hint travels as a google.rpc.RetryInfo beside
// the ErrorInfo and comes back; an error without one has none, and a
// malformed or negative delay gives none.
func TestRetryInfoRoundTrip(t *testing.T) {
	ctx := context.Background()
	refused := bank.WithRetryAfter(bank.Errorf(bank.Unavailable, "overloaded"), 1500*time.Millisecond)
	err := pbbank.Status(refused)
	st := status.Convert(err)
	if len(st.Details()) != 2 {
		t.Fatalf("details %v, want ErrorInfo and RetryInfo", st.Details())
	}
	got := pbbank.FromStatus(ctx, err)
	if d, ok := bank.RetryAfter(got); !ok || d != 1500*time.Millisecond || !errors.Is(got, bank.ErrUnavailable) || got.Error() != refused.Error() {
		t.Fatalf("restored as %v, hint %v %v", got, d, ok)
	}
	if _, ok := bank.RetryAfter(pbbank.FromStatus(ctx, pbbank.Status(bank.Errorf(bank.Unavailable, "down")))); ok {
		t.Fatal("a hint appeared from nowhere")
	}
	for _, info := range []*errdetails.RetryInfo{{}, pbbank.RetryInfo(-time.Second), pbbank.RetryInfo(0)} {
		if d, ok := pbbank.HintFromRetryInfo(info); ok {
			t.Errorf("RetryInfo %v gave hint %v", info, d)
		}
	}
}
