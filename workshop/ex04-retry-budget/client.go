// Package budget is exercise 4 of the workshop: a retry budget. Retries
// help when failures are rare and brief; in an outage every caller
// retrying multiplies the load on a server that is already down. A budget
// shared by all calls to one server lets retries through while most calls
// succeed, and stops them when most fail.
package budget

import (
	"context"
	"sync"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// Budget is a retry budget shared by every call to one server: the token
// bucket of gRPC's retry throttling (gRFC A6). The bucket starts full,
// with MaxTokens tokens. Every failed attempt takes one token away (never
// below 0); every call the server answered (a success, or an answer such
// as not_found) gives TokenRatio back (never above MaxTokens). A retry is
// allowed only while more than half of MaxTokens remain.
//
// In a total outage the bucket drains within a few calls and from then on
// each call makes one attempt; once calls succeed again it refills, and
// retrying resumes.
type Budget struct {
	mu         sync.Mutex
	tokens     float64
	maxTokens  float64
	tokenRatio float64
}

// NewBudget returns a full budget.
func NewBudget(maxTokens, tokenRatio float64) *Budget {
	return &Budget{tokens: maxTokens, maxTokens: maxTokens, tokenRatio: tokenRatio}
}

// Tokens returns the tokens left.
func (b *Budget) Tokens() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}

// Client calls next (a transport's client) and retries availability
// failures as its Budget allows.
type Client struct {
	next        bank.Bank
	Budget      *Budget
	MaxAttempts int
	Backoff     time.Duration
}

// NewClient returns a Client of next that makes up to 4 attempts per call,
// 1ms apart, within b.
func NewClient(next bank.Bank, b *Budget) *Client {
	return &Client{next: next, Budget: b, MaxAttempts: 4, Backoff: time.Millisecond}
}

// Balance returns the balance of acc.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	for n := 1; ; n++ {
		m, err := c.next.Balance(ctx, acc)
		if err == nil || !bank.CodeOf(err).Retryable() {
			c.Budget.Answered()
			return m, err
		}
		allowed := c.Budget.Failed()
		if !allowed || n >= c.MaxAttempts || ctx.Err() != nil {
			return m, err
		}
		time.Sleep(c.Backoff)
	}
}
