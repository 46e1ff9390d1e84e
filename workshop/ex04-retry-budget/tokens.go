//go:build !solution

package budget

// Failed records a failed attempt and reports whether a retry is allowed.
// It is called concurrently: hold b.mu.
func (b *Budget) Failed() bool {
	// TODO(student): take one token (not below 0), and allow the retry
	// only if more than half of b.maxTokens remain.
	return true
}

// Answered records a call the server answered. It is called
// concurrently: hold b.mu.
func (b *Budget) Answered() {
	// TODO(student): give b.tokenRatio back (not above b.maxTokens).
}
