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
