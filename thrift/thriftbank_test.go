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
