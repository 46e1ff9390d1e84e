//go:build solution

package noretry

import "github.com/igbank/igbank/common/bank"

// Retryable reports whether a call that failed with err may succeed if
// tried again unchanged. Take the error's code with bank.CodeOf(err); the
// codes are listed in common/bank/errors.go.
func Retryable(err error) bool {
	switch bank.CodeOf(err) {
	case bank.Unavailable, // the server could not be reached, or refused for overload
		bank.DeadlineExceeded, // no answer in time: the server may be slow, or gone
		bank.InFlight:         // the same deposit is still being applied: ask again later
		return true
	}
	// OK, the business errors (an answer from a server that is up),
	// the caller's own cancellation, and Internal (a bug: a retry would
	// hit it again).
	return false
}
