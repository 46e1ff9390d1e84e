package banktest_test

import (
	"testing"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/transport"
)

// conformance is how a transport module's test runs the suite: through a
// real server of the transport on loopback and its real client. Here the
// transport is a stand-in; a module passes its own, such as
// transport.ServerWith(rawbank.NewServer) and transport.DialWith(rawbank.Dial),
// or a descriptor variant's ServerFunc and DialFunc.
func conformance(t *testing.T, newServer transport.NewServerFunc, dial transport.DialFunc) {
	banktest.Run(t, banktest.Transport(newServer, dial))
}

// In a store's test, the suite runs with no transport at all.
func inProcess(t *testing.T) {
	banktest.Run(t, banktest.InProcess)
}

func ExampleRun() {
	// In a transport module's test file:
	//
	//	func TestConformance(t *testing.T) { conformance(t, newServer, dial) }
	//	func TestLedger(t *testing.T)      { inProcess(t) }
	_, _ = conformance, inProcess
}
