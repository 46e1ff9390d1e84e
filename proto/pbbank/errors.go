package pbbank

import (
	"context"
	"strings"
	"time"

	"github.com/igbank/igbank/common/bank"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Domain is the google.rpc.ErrorInfo domain of IGBank's errors. The
// ErrorInfo reason is the bank code's wire name in upper case, as the
// ErrorInfo convention asks: "NOT_FOUND", "IDEMPOTENCY_KEY_REUSED", ...
const Domain = "igbank.v1"

// statusCodes is the table of the gRPC code each bank code travels as.
// Connect uses the same numbers.
var statusCodes = [...]codes.Code{
	bank.OK:                  codes.OK,
	bank.NotFound:            codes.NotFound,
	bank.InvalidArgument:     codes.InvalidArgument,
	bank.IdempotencyKeyReuse: codes.FailedPrecondition,
	bank.InFlight:            codes.Aborted,
	bank.Unavailable:         codes.Unavailable,
	bank.DeadlineExceeded:    codes.DeadlineExceeded,
	bank.Unauthenticated:     codes.Unauthenticated,
	bank.PermissionDenied:    codes.PermissionDenied,
	bank.Internal:            codes.Internal,
	bank.Canceled:            codes.Canceled,
}

// bankCodes is the inverse of statusCodes, with the other gRPC codes that
// have a nearest bank code: OutOfRange is an invalid argument, and
// ResourceExhausted (gRPC's "overloaded / over quota") is unavailable, as
// a retry later may succeed. The rest (Unknown, Unimplemented, DataLoss,
// AlreadyExists, ...) are internal.
var bankCodes = func() map[codes.Code]bank.Code {
	m := map[codes.Code]bank.Code{codes.OutOfRange: bank.InvalidArgument, codes.ResourceExhausted: bank.Unavailable}
	for c, sc := range statusCodes {
		m[sc] = bank.Code(c)
	}
	return m
}()

// StatusCode returns the gRPC code a bank error code travels as. Connect
// uses the same numbers (connect.Code(StatusCode(c))).
func StatusCode(c bank.Code) codes.Code {
	if int(c) < len(statusCodes) {
		return statusCodes[c]
	}
	return codes.Internal
}

// BankCode classifies a gRPC code that came without an IGBank ErrorInfo
// (from a proxy, the gRPC library itself, or another server): the inverse
// of StatusCode where that has one, the nearest bank code otherwise.
func BankCode(c codes.Code) bank.Code {
	if bc, ok := bankCodes[c]; ok {
		return bc
	}
	return bank.Internal
}

// ErrorInfo returns the error detail that names c.
func ErrorInfo(c bank.Code) *errdetails.ErrorInfo {
	return &errdetails.ErrorInfo{Reason: strings.ToUpper(c.String()), Domain: Domain}
}

// CodeFromErrorInfo returns the bank code an ErrorInfo names, and false if
// it is not an IGBank ErrorInfo or names no known code.
func CodeFromErrorInfo(info *errdetails.ErrorInfo) (bank.Code, bool) {
	if info.GetDomain() != Domain || len(info.GetReason()) > 64 {
		return 0, false
	}
	c, ok := bank.ParseCode(strings.ToLower(info.GetReason()))
	if !ok || c == bank.OK {
		return 0, false
	}
	return c, true
}

// Status returns err as a gRPC status error with the IGBank ErrorInfo
// detail; nil stays nil. A server returns it from its handlers. The status
// message is bank.Detail(err): the code travels as the status code and the
// ErrorInfo, and FromStatus puts it back in front.
func Status(err error) error {
	if err == nil {
		return nil
	}
	c := bank.CodeOf(err)
	msg := bank.Detail(err)
	details := []protoadapt.MessageV1{ErrorInfo(c)}
	if d, ok := bank.RetryAfter(err); ok {
		details = append(details, RetryInfo(d))
	}
	st, derr := status.New(StatusCode(c), msg).WithDetails(details...)
	if derr != nil { // cannot happen: ErrorInfo always marshals
		return status.Error(StatusCode(c), msg)
	}
	return st.Err()
}

// FromStatus restores the bank error from the error err of a gRPC call
// made with ctx. An IGBank ErrorInfo gives the exact code and the server's
// message; without one, a caller's expired or canceled ctx gives
// DeadlineExceeded or Canceled, and any other status is classified by its
// code (BankCode), keeping err as the cause. The result is never nil for a
// non-nil err, and is always a *bank.Error.
func FromStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return bank.FromContext(ctx, err)
	}
	if c, ok := codeFromDetails(st); ok {
		return bank.WithRetryAfter(bank.FromCode(c, st.Message()), hintFromDetails(st))
	}
	if ctx.Err() != nil {
		return bank.FromContext(ctx, err)
	}
	c := BankCode(st.Code())
	if c == bank.OK {
		// A status error with code OK is a broken peer, not a success.
		c = bank.Internal
	}
	return &bank.Error{Code: c, Err: err}
}

func codeFromDetails(st *status.Status) (bank.Code, bool) {
	for _, a := range st.Proto().GetDetails() {
		var info errdetails.ErrorInfo
		if a.MessageIs(&info) && a.UnmarshalTo(&info) == nil {
			if c, ok := CodeFromErrorInfo(&info); ok {
				return c, true
			}
		}
	}
	return 0, false
}

// RetryInfo returns the error detail that carries a retry-after hint
// (bank.RetryAfter): google.rpc.RetryInfo's retry_delay, which gRPC and
// Connect clients of every language understand.
func RetryInfo(d time.Duration) *errdetails.RetryInfo {
	return &errdetails.RetryInfo{RetryDelay: durationpb.New(d)}
}

// HintFromRetryInfo returns the retry-after hint a RetryInfo carries, and
// false for none: no delay, a malformed one, or one of 0 or less.
func HintFromRetryInfo(info *errdetails.RetryInfo) (time.Duration, bool) {
	rd := info.GetRetryDelay()
	if rd == nil || rd.CheckValid() != nil {
		return 0, false
	}
	d := rd.AsDuration()
	return d, d > 0
}

// hintFromDetails returns the hint of the status's RetryInfo, 0 for none.
func hintFromDetails(st *status.Status) time.Duration {
	for _, a := range st.Proto().GetDetails() {
		var info errdetails.RetryInfo
		if a.MessageIs(&info) && a.UnmarshalTo(&info) == nil {
			if d, ok := HintFromRetryInfo(&info); ok {
				return d
			}
		}
	}
	return 0
}
