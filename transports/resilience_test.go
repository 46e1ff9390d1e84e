package transports_test

import (
	"context"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/resilience"
	"github.com/igbank/igbank/common/resilience/resiliencetest"
	"github.com/igbank/igbank/common/transport"
	"github.com/igbank/igbank/transports"
)

// TestResilience runs the exactly-once suite of the client layers over
// every transport variant: a real server on a loopback listener that
// loses requests and responses and resets connections, the transport's
// real client, and common/resilience around it.
func TestResilience(t *testing.T) {
	for _, v := range transports.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			resiliencetest.Run(t, v.ServerFunc(transport.ServerConfig{}), v.DialFunc(transport.ClientConfig{}))
		})
	}
}

// resilienceCallers is how many goroutines call at once in
// BenchmarkResilienceOverhead.
const resilienceCallers = 64

// BenchmarkResilienceOverhead measures what the client layers cost over a
// real loopback transport: Balance and Deposit from 64 concurrent callers,
// through the bare client and through resilience.Wrap around it,
// alternating, for every transport variant (banktest.BenchCallers: calls/s,
// p50, p99 and CPU per call). Run with
//
//	go test -run '^$' -bench ResilienceOverhead -benchmem -count 6 ./transports
//
// and compare bare against layers with benchstat.
func BenchmarkResilienceOverhead(b *testing.B) {
	for _, v := range transports.Variants() {
		b.Run(v.Name, func(b *testing.B) {
			srv := bank.NewService(ledger.NewMemory(ledger.DefaultAccounts))
			c := banktest.Transport(v.ServerFunc(transport.ServerConfig{}), v.DialFunc(transport.ClientConfig{}))(b, srv)
			for _, layer := range []struct {
				name string
				c    bank.Bank
			}{{"bare", c}, {"layers", resilience.Wrap(c)}} {
				b.Run(layer.name+"/Balance", func(b *testing.B) {
					banktest.BenchCallers(b, resilienceCallers, func(n int) error {
						_, err := layer.c.Balance(context.Background(), ledger.SeedAccount(n*7919%ledger.DefaultAccounts+1))
						return err
					})
				})
				b.Run(layer.name+"/Deposit", func(b *testing.B) {
					banktest.BenchCallers(b, resilienceCallers, func(n int) error {
						_, err := layer.c.Deposit(context.Background(), bank.DepositRequest{
							Account: ledger.SeedAccount(n*7919%ledger.DefaultAccounts + 1), Amount: 1,
							IdempotencyKey: resilience.NewKey()})
						return err
					})
				})
			}
		})
	}
}
