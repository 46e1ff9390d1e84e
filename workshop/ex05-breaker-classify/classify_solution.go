//go:build solution

package breaker

import "github.com/igbank/igbank/common/bank"

// IsFailure reports whether err says that the server could not serve the
// call, and so counts toward opening the breaker. nil is not a failure.
// Take the error's code with bank.CodeOf(err); the codes are listed in
// common/bank/errors.go.
func IsFailure(err error) bool {
	switch bank.CodeOf(err) {
	case bank.Unavailable, // unreachable, a broken connection, or refused for overload
		bank.DeadlineExceeded: // no answer in time: too slow, or gone
		return true
	}
	// An answer, even an error, shows the server is up; a caller who
	// canceled says nothing about the server.
	return false
}
