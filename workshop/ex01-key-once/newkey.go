package keyonce

import "crypto/rand"

// newKey returns 26 characters of base32 from crypto/rand: two keys never
// collide in practice.
func newKey() string { return rand.Text() }
