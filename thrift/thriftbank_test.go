package thriftbank_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/thrift"
)

func TestConformance(t *testing.T) {
	for _, p := range []thriftbank.Protocol{thriftbank.Binary, thriftbank.Compact} {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			opt := thriftbank.WithProtocol(p)
			banktest.Run(t, banktest.Transport(thriftbank.NewServerFunc(opt), thriftbank.DialFunc(opt)))
		})
	}
}
