package thriftbank_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/transport"
	thriftbank "github.com/igbank/igbank/thrift"
)

func TestConformance(t *testing.T) {
	for _, p := range []thriftbank.Protocol{thriftbank.Binary, thriftbank.Compact} {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			banktest.Run(t, banktest.Transport(
				transport.ServerWith(thriftbank.NewServer, thriftbank.WithProtocol(p)),
				transport.DialWith(thriftbank.Dial, thriftbank.WithClientProtocol(p))))
		})
	}
}

// TestSecurity runs, over every variant with TLS on, the whole conformance
// suite as the teller (mutual TLS, the bank behind auth.Authorize) and the
// security section (mutual TLS, a plaintext client, keys scoped to their
// principal; no bearer tokens: Transport.Tokens is false).
func TestSecurity(t *testing.T) {
	for _, v := range thriftbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) {
			t.Run("Conformance", func(t *testing.T) { banktest.Run(t, banktest.Secure(v)) })
			banktest.RunSecurity(t, v, thriftbank.Transport.Tokens)
		})
	}
}

// TestHealth: over every variant, SERVING, then NOT_SERVING or unavailable
// once Shutdown has begun (banktest.RunHealth).
func TestHealth(t *testing.T) {
	for _, v := range thriftbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) { banktest.RunHealth(t, v) })
	}
}

// TestHiddenCause: over every variant, the cause of an internal error is
// logged, not sent (banktest.RunHiddenCause).
func TestHiddenCause(t *testing.T) {
	for _, v := range thriftbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) { banktest.RunHiddenCause(t, v) })
	}
}
