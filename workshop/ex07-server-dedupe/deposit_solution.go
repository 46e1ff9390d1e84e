//go:build solution

package dedupe

import (
	"context"

	"github.com/igbank/igbank/common/bank"
)

// Deposit implements bank.Bank: it applies req once per idempotency key.
func (d *Dedupe) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	d.mu.Lock()
	if e, ok := d.keys[req.IdempotencyKey]; ok {
		d.mu.Unlock()
		if e.req != req {
			return bank.DepositReceipt{}, bank.Errorf(bank.IdempotencyKeyReuse,
				"idempotency key was used for a different deposit")
		}
		select {
		case <-e.done: // the first deposit finished: answer as it did
		case <-ctx.Done():
			return bank.DepositReceipt{}, bank.Errorf(bank.InFlight,
				"a deposit with this idempotency key is still being applied")
		}
		if e.err != nil {
			return bank.DepositReceipt{}, e.err
		}
		r := e.receipt
		r.Replayed = true
		return r, nil
	}
	// Claim the key before applying, so that a concurrent repeat finds it
	// and waits instead of applying the deposit a second time.
	e := &entry{req: req, done: make(chan struct{})}
	d.keys[req.IdempotencyKey] = e
	d.mu.Unlock()

	r, err := d.Bank.Deposit(ctx, req)

	d.mu.Lock()
	e.receipt, e.err = r, err
	if err != nil {
		delete(d.keys, req.IdempotencyKey) // not applied: a retry may apply it
	}
	d.mu.Unlock()
	close(e.done)
	return r, err
}
