package bank

import (
	"errors"
	"time"
)

// MaxRetryAfter is the longest retry-after hint an error carries.
const MaxRetryAfter = time.Minute

// retryAfter is an error with the time its sender asks the caller to wait
// before trying again: a server shedding load says when it expects room.
type retryAfter struct {
	error
	after time.Duration
}

func (e *retryAfter) Unwrap() error { return e.error }

// WithRetryAfter returns err carrying the hint that a retry should wait at
// least d: an overloaded server's refusal (Unavailable) says when it
// expects to have room. The result still matches what err matches
// (errors.Is, errors.As, CodeOf). A nil err gives nil; a d of 0 or less
// returns err unchanged; a d above MaxRetryAfter is MaxRetryAfter, so
// that a hint read off the wire cannot stall a client for hours.
//
// Transports that can carry the hint send it (an HTTP Retry-After header,
// a google.rpc.RetryInfo detail) and their clients put it back, so the
// shared retry layer waits at least that long before trying again.
func WithRetryAfter(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &retryAfter{error: err, after: min(d, MaxRetryAfter)}
}

// RetryAfter returns the retry-after hint err carries (WithRetryAfter),
// and false if it carries none.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *retryAfter
	if errors.As(err, &ra) {
		return ra.after, true
	}
	return 0, false
}
