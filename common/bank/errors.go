package bank

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Code classifies an error. The set is small and fixed; every transport
// maps each code to its native form and back. The numeric values are the
// exit status of the command-line client (common/cli) for a failed call
// and must not change.
type Code uint8

const (
	OK                  Code = 0
	NotFound            Code = 1 // the account does not exist
	InvalidArgument     Code = 2 // malformed account, month, amount or key
	IdempotencyKeyReuse Code = 3 // the key was used before with a different request
	InFlight            Code = 4 // a request with this key is still being applied; retry later
	Unavailable         Code = 5 // the service cannot be reached or is overloaded; retry later
	DeadlineExceeded    Code = 6 // the caller's deadline passed before an answer came
	Unauthenticated     Code = 7
	PermissionDenied    Code = 8
	Internal            Code = 9  // a bug or an unexpected failure of the server
	Canceled            Code = 10 // the caller canceled the call
	maxCode                  = Canceled
)

var codeNames = [...]string{
	OK:                  "ok",
	NotFound:            "not_found",
	InvalidArgument:     "invalid_argument",
	IdempotencyKeyReuse: "idempotency_key_reused",
	InFlight:            "in_flight",
	Unavailable:         "unavailable",
	DeadlineExceeded:    "deadline_exceeded",
	Unauthenticated:     "unauthenticated",
	PermissionDenied:    "permission_denied",
	Internal:            "internal",
	Canceled:            "canceled",
}

// String returns the code's stable wire name, such as "not_found".
func (c Code) String() string {
	if c <= maxCode {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}

// ParseCode is the inverse of Code.String.
func ParseCode(name string) (Code, bool) {
	for c, n := range codeNames {
		if n == name {
			return Code(c), true
		}
	}
	return 0, false
}

// Codes lists every error code (OK excluded), for tests and tables.
func Codes() []Code {
	cs := make([]Code, 0, maxCode)
	for c := NotFound; c <= maxCode; c++ {
		cs = append(cs, c)
	}
	return cs
}

// Retryable reports whether a call that failed with c may succeed if tried
// again unchanged.
func (c Code) Retryable() bool {
	return c == Unavailable || c == DeadlineExceeded || c == InFlight
}

// Error is the error type of the bank. Compare with errors.Is against the
// sentinels (ErrNotFound, ...), which match on Code alone, or take the code
// with CodeOf.
type Error struct {
	Code    Code
	Message string // human-readable detail; never parsed
	Err     error  // the underlying cause, if any (for example a net.OpError)
}

func (e *Error) Error() string {
	switch {
	case e.Message != "" && e.Err != nil:
		return e.Code.String() + ": " + e.Message + ": " + e.Err.Error()
	case e.Message != "":
		return e.Code.String() + ": " + e.Message
	case e.Err != nil:
		return e.Code.String() + ": " + e.Err.Error()
	}
	return e.Code.String()
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded)
// still holds for a deadline error made from a context.
func (e *Error) Unwrap() error { return e.Err }

// Is makes every *Error with the same code match a sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Err == nil
}

// Sentinels for errors.Is. They carry no message, so they match any error
// of their code.
var (
	ErrNotFound            = &Error{Code: NotFound}
	ErrInvalidArgument     = &Error{Code: InvalidArgument}
	ErrIdempotencyKeyReuse = &Error{Code: IdempotencyKeyReuse}
	ErrInFlight            = &Error{Code: InFlight}
	ErrUnavailable         = &Error{Code: Unavailable}
	ErrDeadlineExceeded    = &Error{Code: DeadlineExceeded}
	ErrUnauthenticated     = &Error{Code: Unauthenticated}
	ErrPermissionDenied    = &Error{Code: PermissionDenied}
	ErrInternal            = &Error{Code: Internal}
	ErrCanceled            = &Error{Code: Canceled}
)

// Errorf returns an *Error with code c and a formatted message.
func Errorf(c Code, format string, args ...any) error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// FromCode rebuilds the typed error a server sent: transports call it on the
// client with the code and message they received. An unknown code becomes
// Internal, so a newer server cannot make an older client lose the error.
func FromCode(c Code, msg string) error {
	if c == OK {
		return nil
	}
	if c > maxCode {
		return &Error{Code: Internal, Message: fmt.Sprintf("unknown error code %d: %s", uint8(c), msg)}
	}
	return &Error{Code: c, Message: msg}
}

// Wrap returns err classified as c, keeping err as the cause. A nil err
// gives nil; an err that already is a bank error is returned unchanged.
func Wrap(c Code, err error) error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return err
	}
	return &Error{Code: c, Err: err}
}

// CodeOf classifies any error: OK for nil, the code of a bank error,
// DeadlineExceeded and Canceled for the context errors, Internal otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var be *Error
	if errors.As(err, &be) {
		return be.Code
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	return Internal
}

// FromContext turns a context error (ctx.Err()) into the bank error a client
// returns when its caller's deadline passes or the caller cancels; any other
// err is classified as Unavailable, the usual reading of a failed
// connection. Transports call it on every client-side failure that is not an
// answer from the server.
func FromContext(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		c := Canceled
		if errors.Is(cerr, context.DeadlineExceeded) {
			c = DeadlineExceeded
		}
		return &Error{Code: c, Err: cerr}
	}
	// The deadline can have passed before ctx.Err() says so: the timer
	// goroutine that sets it races with a peer that saw the same deadline
	// (a gRPC server resets the stream when the grpc-timeout it was sent
	// expires). Reading the deadline itself has no such race.
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return &Error{Code: DeadlineExceeded, Err: err}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: DeadlineExceeded, Err: err}
	case errors.Is(err, context.Canceled):
		return &Error{Code: Canceled, Err: err}
	}
	return Wrap(Unavailable, err)
}

// Detail returns the error text every transport's server sends for err:
// what happened, and nothing of the server's insides. That is the message
// and the cause of a bank error ("message: cause", or either alone) without
// the code that Error puts in front (the code travels in its own field, and
// FromCode on the client puts it back), except that the server's own
// failures keep their cause to themselves: for an Internal or Unavailable
// error only the message is sent, since its cause is a store's socket
// address, a driver's error or a panic's value; and an error that is not a
// bank error (CodeOf reads it as Internal) sends nothing. Context errors
// (DeadlineExceeded, Canceled) send their text. So on the client,
// FromCode(CodeOf(err), Detail(err)) is err as the caller may see it, and
// its Error() reads as err.Error() does for a *Error of any other code.
// Detail(nil) is "".
func Detail(err error) string {
	var be *Error
	switch {
	case err == nil:
		return ""
	case !errors.As(err, &be):
		if CodeOf(err) == Internal {
			return ""
		}
		return err.Error()
	case be.Code == Internal || be.Code == Unavailable:
		return be.Message
	case be.Message != "" && be.Err != nil:
		return be.Message + ": " + be.Err.Error()
	case be.Message != "":
		return be.Message
	case be.Err != nil:
		return be.Err.Error()
	}
	return ""
}
