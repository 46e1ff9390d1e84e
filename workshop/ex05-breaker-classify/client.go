// Package breaker is exercise 5 of the workshop: a circuit breaker must
// count only the failures that say the server is down. A server that
// answers "no such account" is up; a breaker that opens on such answers
// takes a healthy service away from every caller.
package breaker

import (
	"context"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/sony/gobreaker/v2"
)

// Client calls next (a transport's client) through a gobreaker circuit
// breaker that opens after Failures failures in a row, as IsFailure
// classifies them, and fails every call fast while open.
type Client struct {
	next bank.Bank
	cb   *gobreaker.CircuitBreaker[bank.Money]
}

// NewClient returns a Client whose breaker opens after failures
// consecutive failures and stays open for openFor.
func NewClient(next bank.Bank, failures uint32, openFor time.Duration) *Client {
	return &Client{next: next, cb: gobreaker.NewCircuitBreaker[bank.Money](gobreaker.Settings{
		Name:        "workshop",
		Timeout:     openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// Every call's error is classified here: a failure counts toward
		// opening; anything else resets the count, as a success does.
		IsSuccessful: func(err error) bool { return !IsFailure(err) },
	})}
}

// Balance returns the balance of acc, or gobreaker.ErrOpenState at once
// while the breaker is open.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	return c.cb.Execute(func() (bank.Money, error) { return c.next.Balance(ctx, acc) })
}

// State returns the breaker's state.
func (c *Client) State() gobreaker.State { return c.cb.State() }
