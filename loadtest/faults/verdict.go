package faults

import (
	"fmt"
	"strings"
)

// The delivery guarantees a cell runs under, from its client layers and
// the server's use of keys.
const (
	// AtMostOnce: one attempt per deposit (Config.NoRetry). A deposit
	// whose answer is lost stays unacknowledged, applied or not; none is
	// applied twice.
	AtMostOnce = "at-most-once"
	// AtLeastOnce: retries, and a server that ignores keys
	// (Config.IgnoreKeys). Every acknowledged deposit is applied, and a
	// retried one whose response was lost is applied again.
	AtLeastOnce = "at-least-once"
	// ExactlyOnce: retries with one key per deposit, and a server that
	// keeps them.
	ExactlyOnce = "exactly-once"
)

// Delivery is the guarantee r ran under.
func (r Result) Delivery() string {
	switch {
	case r.NoRetry:
		return AtMostOnce
	case r.IgnoreKeys:
		return AtLeastOnce
	}
	return ExactlyOnce
}

// verdict says whether r showed what its delivery guarantee predicts
// under scenario s, and what it showed, in the lab's words. A cell that
// shows the bug it was set up to show (duplicates with keys off, deposits
// left unacknowledged without retries) passes; only an outcome the
// guarantee does not predict fails.
func verdict(r Result, s Scenario) (bool, string) {
	a := r.Audit
	unacked := a.Attempted - a.Acknowledged
	var fails []string
	if !r.SawExpected {
		fails = append(fails, fmt.Sprintf("expected %s on the attempts, saw %s", strings.Join(r.Expected, " or "), codeCounts(r.AttemptErrors)))
	}
	// What no guarantee allows: an acknowledged deposit missing, a
	// transaction nobody sent, a definite failure applied.
	if a.Lost > 0 || a.Phantom > 0 || a.FailedApplied > 0 {
		fails = append(fails, fmt.Sprintf("lost %d, phantom %d, failed yet applied %d", a.Lost, a.Phantom, a.FailedApplied))
	}
	switch r.Delivery() {
	case AtMostOnce:
		if a.Duplicated > 0 || a.Mismatched > 0 || a.BadBalances > 0 {
			fails = append(fails, fmt.Sprintf("%d deposits applied twice with one attempt each", a.Duplicated))
		}
		if len(fails) > 0 {
			return false, "FAIL: " + strings.Join(fails, "; ")
		}
		if unacked == 0 {
			return true, "every deposit acknowledged at its first attempt"
		}
		return true, fmt.Sprintf("%d of %d deposits unacknowledged (%d of them applied, %d not), as expected without retries",
			unacked, a.Attempted, a.UnknownApplied, unacked-a.UnknownApplied)
	case AtLeastOnce:
		if s.AllAcked && unacked > 0 {
			fails = append(fails, fmt.Sprintf("%d of %d deposits unacknowledged", unacked, a.Attempted))
		}
		if s.LosesResponses && a.Duplicated == 0 {
			fails = append(fails, "no duplicates although keys were off: no retried deposit had lost its response (run longer, or with more deposits)")
		}
		if len(fails) > 0 {
			return false, "FAIL: " + strings.Join(fails, "; ")
		}
		if a.Duplicated > 0 {
			return true, fmt.Sprintf("duplicates found, as expected with keys off: %d of %d deposits applied more than once", a.Duplicated, a.Attempted)
		}
		return true, "no duplicates: no response was lost, so keys did not matter"
	}
	if a.Duplicated > 0 || a.Mismatched > 0 || a.BadBalances > 0 {
		fails = append(fails, fmt.Sprintf("duplicated %d, mismatched %d, bad balances %d", a.Duplicated, a.Mismatched, a.BadBalances))
	}
	if s.AllAcked && unacked > 0 {
		fails = append(fails, fmt.Sprintf("%d of %d deposits unacknowledged", unacked, a.Attempted))
	}
	if len(fails) > 0 {
		return false, "FAIL: " + strings.Join(fails, "; ")
	}
	if a.Replayed > 0 {
		return true, fmt.Sprintf("exactly once: %d lost responses recovered by replayed receipts", a.Replayed)
	}
	return true, "exactly once"
}
