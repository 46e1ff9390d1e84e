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
// within the write timeout (in plaintext and over TLS), and on h2c one
// resetting streams without pause is sent GOAWAY by the server's HTTP/2
// guard. Everyone else is served meanwhile.
func TestHTTP2Abuse(t *testing.T) {
	msg, err := proto.Marshal(&igbankv1.BalanceRequest{Account: string(ledger.SeedAccount(1))})
	if err != nil {
		t.Fatal(err)
	}
	path := "/" + igbankv1.BankService_ServiceDesc.ServiceName + "/Balance"
	banktest.RunHTTP2Abuse(t, connectbank.Transport.Variants[0], path, hostile.GRPCMessage(msg), false)
}
