// Package dedupe is exercise 7 of the workshop: the server's half of
// exactly-once. A client that lost a response retries with the same
// idempotency key; the server must recognise the key and answer with the
// receipt it gave the first time, instead of applying the deposit again.
package dedupe

import (
	"sync"

	"github.com/igbank/igbank/common/bank"
)

// Dedupe is a server-side bank.Bank decorator that applies each deposit
// once per idempotency key. The bank it wraps applies every deposit it is
// given, key or not. Balance and Statement pass through.
//
// Rules (those of the IETF Idempotency-Key draft, and of Stripe):
//   - a key seen before, with the same request: the stored receipt, with
//     Replayed set, and nothing applied;
//   - a key seen before with a different request (another account or
//     amount): bank.ErrIdempotencyKeyReuse, and nothing applied;
//   - the same key arriving again while its first deposit is still being
//     applied: wait for that deposit and answer with its receipt (or
//     answer bank.InFlight, which clients retry);
//   - a deposit that failed is not remembered: a retry may apply it.
type Dedupe struct {
	bank.Bank

	mu   sync.Mutex
	keys map[string]*entry
}

// entry is what Dedupe remembers of one key. You may use it, change it or
// ignore it.
type entry struct {
	req     bank.DepositRequest // the first request with the key: its fingerprint
	done    chan struct{}       // closed once the first deposit has finished
	receipt bank.DepositReceipt // its receipt, once done is closed
	err     error               // its error, once done is closed
}

// New returns next with deposits deduplicated by key.
func New(next bank.Bank) *Dedupe {
	return &Dedupe{Bank: next, keys: make(map[string]*entry)}
}
