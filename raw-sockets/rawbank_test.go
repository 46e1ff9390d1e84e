package rawbank_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	rawbank "github.com/igbank/igbank/raw-sockets"
)

func TestConformance(t *testing.T) {
	banktest.Run(t, banktest.Transport(rawbank.ServerFunc(), rawbank.DialFunc()))
}

// One connection: every call of the suite is multiplexed on it.
func TestConformanceOneConn(t *testing.T) {
	banktest.Run(t, banktest.Transport(rawbank.ServerFunc(), rawbank.DialFunc(rawbank.WithConns(1))))
}
