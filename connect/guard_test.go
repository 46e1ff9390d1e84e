package connectbank_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/hostile"
	"github.com/igbank/igbank/common/ledger"
	connectbank "github.com/igbank/igbank/connect"
	"github.com/igbank/igbank/proto/igbankv1"
)

// A peer that keeps its window closed on replies has them released
// within the write timeout (net/http resets their streams), in plaintext
// and over TLS, and everyone else is served meanwhile. Resets are
// net/http's to police (README.md); loadtest/hostile holds the server to
// its budget under a reset flood.
func TestHTTP2Abuse(t *testing.T) {
	msg, err := proto.Marshal(&igbankv1.BalanceRequest{Account: string(ledger.SeedAccount(1))})
	if err != nil {
		t.Fatal(err)
	}
	path := "/" + igbankv1.BankService_ServiceDesc.ServiceName + "/Balance"
	banktest.RunHTTP2Abuse(t, connectbank.Transport.Variants[0], path, hostile.GRPCMessage(msg), false)
}
