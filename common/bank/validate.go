package bank

import (
	"math"
	"strings"
)

// Limits of the contract. Servers reject anything outside them with
// InvalidArgument before a ledger sees it.
const (
	// MaxDeposit is the largest amount one deposit may carry: ten million
	// units (1,000,000,000 cents).
	MaxDeposit Money = 1_000_000_000
	// MaxBalance is the largest balance an account may reach; a deposit
	// that would go past it is rejected rather than overflowing.
	MaxBalance Money = math.MaxInt64
	// MaxKeyLen is the longest idempotency key, in bytes.
	MaxKeyLen = 255
	// AccountNoLen is the length of every account number.
	AccountNoLen = 9
)

// ValidateAccount checks that acc is exactly nine ASCII digits.
func ValidateAccount(acc AccountNo) error {
	if len(acc) != AccountNoLen {
		return Errorf(InvalidArgument, "account %q is not %d digits", clip(string(acc)), AccountNoLen)
	}
	for i := 0; i < len(acc); i++ {
		if acc[i] < '0' || acc[i] > '9' {
			return Errorf(InvalidArgument, "account %q is not %d digits", clip(string(acc)), AccountNoLen)
		}
	}
	return nil
}

// ValidateMonth checks that m is a real month written "YYYY-MM".
func ValidateMonth(m Month) error {
	_, _, err := m.Range()
	return err
}

// ValidateKey checks an idempotency key: 1 to 255 characters from 0x21 to
// 0x7E (printable ASCII without the space), so a key survives any header or URL.
func ValidateKey(key string) error {
	if key == "" {
		return Errorf(InvalidArgument, "idempotency key is required")
	}
	if len(key) > MaxKeyLen {
		return Errorf(InvalidArgument, "idempotency key is %d bytes, more than %d", len(key), MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return Errorf(InvalidArgument, "idempotency key has a byte 0x%02x that is not printable ASCII", key[i])
		}
	}
	return nil
}

// ValidateAmount checks that a deposit amount is positive and at most
// MaxDeposit.
func ValidateAmount(amount Money) error {
	if amount <= 0 {
		return Errorf(InvalidArgument, "amount %d cents is not positive", int64(amount))
	}
	if amount > MaxDeposit {
		return Errorf(InvalidArgument, "amount %d cents is more than the maximum %d", int64(amount), int64(MaxDeposit))
	}
	return nil
}

// ValidateDeposit checks every field of req.
func ValidateDeposit(req DepositRequest) error {
	if err := ValidateAccount(req.Account); err != nil {
		return err
	}
	if err := ValidateAmount(req.Amount); err != nil {
		return err
	}
	return validateStoredKey(req.IdempotencyKey)
}

// AddBalance returns balance+amount, or an InvalidArgument error if the sum
// would pass MaxBalance. Ledgers call it before applying a deposit.
func AddBalance(balance, amount Money) (Money, error) {
	if amount > 0 && balance > MaxBalance-amount {
		return 0, Errorf(InvalidArgument, "deposit of %d cents would overflow the balance", int64(amount))
	}
	return balance + amount, nil
}

// clip keeps error messages bounded when the input is hostile.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// KeyScopeSep separates the scope of a scoped idempotency key from the
// client's key. It is outside the key alphabet, so no client key contains
// it and no client can forge a scope.
const KeyScopeSep = "\x1f"

// MaxScopeLen is the longest scope of a key (a principal's name), in
// bytes.
const MaxScopeLen = 128

// ScopeKey returns key scoped to scope: what a ledger stores for a key
// that only its owner may replay (package auth scopes keys to the
// principal that sent them).
func ScopeKey(scope, key string) string { return scope + KeyScopeSep + key }

// UnscopeKey returns the client's key of k if k is scoped to scope.
func UnscopeKey(scope, k string) (string, bool) { return strings.CutPrefix(k, scope+KeyScopeSep) }

// validateStoredKey checks a key as the Service takes it: a client's key,
// or a client's key with a scope of 1 to MaxScopeLen printable ASCII
// bytes.
func validateStoredKey(k string) error {
	scope, key, scoped := strings.Cut(k, KeyScopeSep)
	if !scoped {
		return ValidateKey(k)
	}
	if scope == "" || len(scope) > MaxScopeLen || ValidateKey(scope) != nil {
		return Errorf(InvalidArgument, "idempotency key scope is not 1 to %d printable ASCII bytes", MaxScopeLen)
	}
	return ValidateKey(key)
}
