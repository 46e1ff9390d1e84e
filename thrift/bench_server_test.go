package thriftbank

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/thrift/gen/bankthrift"
)

// BenchmarkServerSide runs encoded requests through the server's request
// loop (framed transport, protocol, generated processor, handler, bank)
// from memory, without sockets: its allocs/op are the server's share of
// the loopback benchmarks' allocs/op.
func BenchmarkServerSide(b *testing.B) {
	const counterDigits = 12
	for _, p := range []Protocol{Binary, Compact} {
		srv := bank.NewService(ledger.NewMemory(100))
		acc := ledger.SeedAccount(1)
		for i := range 10 {
			if _, err := srv.Deposit(context.Background(), bank.DepositRequest{Account: acc, Amount: 100, IdempotencyKey: fmt.Sprint("seed-", i)}); err != nil {
				b.Fatal(err)
			}
		}
		s := NewServer(srv, WithProtocol(p))
		keyPrefix := "bench-"
		key := keyPrefix + string(bytes.Repeat([]byte("0"), counterDigits))
		for _, tc := range []struct {
			name  string
			frame []byte
		}{
			{"balance", requestFrame(b, p, "balance", &bankthrift.BankBalanceArgs{Account: string(acc)})},
			{"statement", requestFrame(b, p, "statement", &bankthrift.BankStatementArgs{Account: string(acc), Month: string(bank.MonthOf(time.Now()))})},
			{"deposit", requestFrame(b, p, "deposit", &bankthrift.BankDepositArgs{Request: &bankthrift.DepositRequest{Account: string(acc), Amount: 1, IdempotencyKey: key}})},
		} {
			b.Run(p.String()+"/"+tc.name, func(b *testing.B) {
				// Each deposit gets a new key: its counter is rewritten in
				// place in the encoded frame.
				digits := bytes.Index(tc.frame, []byte(key)) + len(keyPrefix)
				r := bytes.NewReader(tc.frame)
				proto := s.newProtocol(r, io.Discard)
				calls := s.newCallContext(s.baseCtx) // as serveConn does
				defer calls.stop()
				n := 0
				b.ReportAllocs()
				for b.Loop() {
					if tc.name == "deposit" {
						n++
						for i, v := digits+counterDigits-1, n; i >= digits; i, v = i-1, v/10 {
							tc.frame[i] = byte('0' + v%10)
						}
					}
					r.Reset(tc.frame)
					ok, err := s.process(calls.start(), proto)
					calls.end()
					if !ok || err != nil {
						b.Fatal(ok, err)
					}
				}
			})
		}
	}
}
