package thriftbank

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/igbank/igbank/common/bank"
)

// A page of bank.MaxPageSize transactions of the largest size a ledger
// stores (every integer at its widest, a scoped key of 128 + 1 + 255
// bytes) fits in DefaultMaxFrameSize with room to spare, in both
// protocols: no statement request can fail for its size.
func TestLargestPageFitsTheFrame(t *testing.T) {
	key := bank.ScopeKey(strings.Repeat("s", bank.MaxScopeLen), strings.Repeat("k", bank.MaxKeyLen))
	st := bank.Statement{Account: "999999999", Month: "2026-12", Opening: math.MinInt64, Closing: math.MinInt64,
		Transactions:  make([]bank.Transaction, bank.MaxPageSize),
		NextPageToken: bank.EncodePageToken(bank.PageToken{Account: "999999999", Month: "2026-12", After: bank.Cursor{Time: time.Now(), ID: math.MaxInt64}})}
	for i := range st.Transactions {
		st.Transactions[i] = bank.Transaction{ID: math.MinInt64, Time: time.Unix(0, math.MinInt64), Amount: math.MinInt64, BalanceAfter: math.MinInt64, IdempotencyKey: key}
	}
	for _, p := range []struct {
		name string
		f    thrift.TProtocolFactory
	}{{"binary", thrift.NewTBinaryProtocolFactoryConf(nil)}, {"compact", thrift.NewTCompactProtocolFactoryConf(nil)}} {
		s := thrift.NewTSerializer()
		s.Protocol = p.f.GetProtocol(s.Transport)
		b, err := s.Write(context.Background(), statementToWire(st))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: the largest page is %d bytes, %.0f%% of the %d-byte frame", p.name, len(b), 100*float64(len(b))/DefaultMaxFrameSize, DefaultMaxFrameSize)
		if len(b) > DefaultMaxFrameSize/2 {
			t.Errorf("%s: the largest page is %d bytes, over half the frame limit %d", p.name, len(b), DefaultMaxFrameSize)
		}
	}
}
