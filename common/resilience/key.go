package resilience

import "crypto/rand"

// NewKey returns a new idempotency key: 26 characters of base32 from
// crypto/rand, 130 bits, so two keys never collide in practice and no key
// can be guessed from another. It satisfies bank.ValidateKey.
func NewKey() string { return rand.Text() }
