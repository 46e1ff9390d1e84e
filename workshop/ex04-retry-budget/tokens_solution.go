//go:build solution

package budget

// Failed records a failed attempt and reports whether a retry is allowed.
// It is called concurrently: hold b.mu.
func (b *Budget) Failed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = max(b.tokens-1, 0)
	return b.tokens > b.maxTokens/2
}

// Answered records a call the server answered. It is called
// concurrently: hold b.mu.
func (b *Budget) Answered() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.tokens+b.tokenRatio, b.maxTokens)
}
