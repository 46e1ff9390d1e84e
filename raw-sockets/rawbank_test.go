package rawbank_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/transport"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

func TestConformance(t *testing.T) {
	banktest.Run(t, banktest.Transport(transport.ServerWith(rawbank.NewServer), transport.DialWith(rawbank.Dial)))
}

// One connection: every call of the suite is multiplexed on it.
func TestConformanceOneConn(t *testing.T) {
	banktest.Run(t, banktest.Transport(transport.ServerWith(rawbank.NewServer), transport.DialWith(rawbank.Dial, rawbank.WithConns(1))))
}

// TestSecurity runs, over every variant with TLS on, the whole conformance
// suite as the teller (mutual TLS, the bank behind auth.Authorize) and the
// security section (mutual TLS, bearer tokens, a plaintext client, keys
// scoped to their principal).
func TestSecurity(t *testing.T) {
	for _, v := range rawbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) {
			t.Run("Conformance", func(t *testing.T) { banktest.Run(t, banktest.Secure(v)) })
			banktest.RunSecurity(t, v, rawbank.Transport.Tokens)
		})
	}
}

// TestAdmission runs the admission section (a flood of idle connections,
// the first-request deadline, a server full of busy connections) over
// every variant.
func TestAdmission(t *testing.T) {
	for _, v := range rawbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) { banktest.RunAdmission(t, v) })
	}
}

// TestSlowReader: a client that never reads a large reply loses its
// connection at the server's write timeout.
func TestSlowReader(t *testing.T) {
	banktest.RunSlowReader(t, rawbank.Transport.Variants[0], 2000)
}
