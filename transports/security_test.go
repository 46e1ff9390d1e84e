package transports_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/transports"
)

// TestSecurity runs, over every transport variant with TLS on: the whole
// conformance suite as the teller (mutual TLS, the reference bank behind
// auth.Authorize), and the security section (mutual TLS, bearer tokens
// where the transport carries them, a plaintext client, keys scoped to
// their principal).
func TestSecurity(t *testing.T) {
	for _, d := range transports.All {
		for _, v := range d.Variants {
			t.Run(v.Name, func(t *testing.T) {
				t.Run("Conformance", func(t *testing.T) { banktest.Run(t, banktest.Secure(v)) })
				banktest.RunSecurity(t, v, d.Tokens)
			})
		}
	}
}
