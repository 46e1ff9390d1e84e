package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
)

// TestVerifierRemembersUntilExpiry: a verified token is taken again
// without a new check, allocating nothing, until it expires (with the
// leeway), and refused after; the remembered tokens stay bounded.
func TestVerifierRemembersUntilExpiry(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := NewSigner(priv)
	v := NewVerifier(s.Public())
	now := time.Now()
	v.now = func() time.Time { return now }
	tok, err := s.Token(Teller, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if p, err := v.Verify(tok); err != nil || p != Teller {
			t.Fatalf("Verify = %q, %v", p, err)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { v.Verify(tok) }); allocs > 0 {
		t.Errorf("a remembered token costs %.0f allocations", allocs)
	}
	now = now.Add(time.Minute + leeway + time.Second)
	if _, err := v.Verify(tok); !errors.Is(err, bank.ErrUnauthenticated) {
		t.Fatalf("a remembered token after its expiry: %v", err)
	}
	s.now = func() time.Time { return now }
	for i := range maxVerified + 10 {
		tok, _ := s.Token(Principal(fmt.Sprintf("p%d", i)), time.Hour)
		if _, err := v.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(v.verified); n > maxVerified {
		t.Fatalf("%d tokens remembered, more than %d", n, maxVerified)
	}
}
