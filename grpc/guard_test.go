package grpcbank_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/hostile"
	"github.com/igbank/igbank/common/ledger"
	grpcbank "github.com/igbank/igbank/grpc"
	"github.com/igbank/igbank/proto/igbankv1"
)

// The server's HTTP/2 guard ends a connection that keeps its window
// closed on replies or resets streams without pause, in plaintext and
// over TLS, and serves everyone else meanwhile.
func TestHTTP2Abuse(t *testing.T) {
	msg, err := proto.Marshal(&igbankv1.BalanceRequest{Account: string(ledger.SeedAccount(1))})
	if err != nil {
		t.Fatal(err)
	}
	path := "/" + igbankv1.BankService_ServiceDesc.ServiceName + "/Balance"
	banktest.RunHTTP2Abuse(t, grpcbank.Transport.Variants[0], path, hostile.GRPCMessage(msg), true)
}
