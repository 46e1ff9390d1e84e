package thriftbank

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/thrift/gen/bankthrift"
)

// requestFrame encodes one call as a client would send it: a frame
// holding a CALL message.
func requestFrame(t testing.TB, p Protocol, method string, args thrift.TStruct) []byte {
	t.Helper()
	ctx := context.Background()
	buf := thrift.NewTMemoryBuffer()
	w := wireConfig{protocol: p, maxFrameSize: DefaultMaxFrameSize}
	proto := w.protocolFactory().GetProtocol(thrift.NewTFramedTransportConf(buf, w.tconf()))
	if err := proto.WriteMessageBegin(ctx, method, thrift.CALL, 1); err != nil {
		t.Fatal(err)
	}
	if err := args.Write(ctx, proto); err != nil {
		t.Fatal(err)
	}
	if err := proto.WriteMessageEnd(ctx); err != nil {
		t.Fatal(err)
	}
	if err := proto.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

func sampleRequests(t testing.TB, p Protocol) map[string][]byte {
	acc := string(ledger.SeedAccount(1))
	return map[string][]byte{
		"balance":   requestFrame(t, p, "balance", &bankthrift.BankBalanceArgs{Account: acc}),
		"statement": requestFrame(t, p, "statement", &bankthrift.BankStatementArgs{Account: acc, Month: "2026-01"}),
		"deposit": requestFrame(t, p, "deposit", &bankthrift.BankDepositArgs{Request: &bankthrift.DepositRequest{
			Account: acc, Amount: 100, IdempotencyKey: "fuzz-seed"}}),
		"unknown": requestFrame(t, p, "withdraw", &bankthrift.BankBalanceArgs{Account: acc}),
	}
}

// FuzzServer feeds arbitrary bytes to the server's request loop, as the
// byte stream of one connection: the framed transport, the generated
// decoders, the processor and the handler over a real bank. The first
// byte picks the protocol. No input may panic, and the memory allocated
// must stay within a bound set by the input's length and the frame limit.
func FuzzServer(f *testing.F) {
	for _, p := range []Protocol{Binary, Compact} {
		for _, frame := range sampleRequests(f, p) {
			f.Add(append([]byte{byte(p)}, frame...))
		}
		all := []byte{byte(p)}
		for _, frame := range sampleRequests(f, p) {
			all = append(all, frame...)
		}
		f.Add(all)
	}
	f.Add([]byte{0, 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 0, 0, 0, 3, 0x82, 0x21, 0x01})

	const maxFrame = 16 << 10
	servers := make(map[Protocol]*Server)
	for _, p := range []Protocol{Binary, Compact} {
		servers[p] = NewServer(bank.NewService(ledger.NewMemory(100)),
			WithProtocol(p), WithMaxFrameSize(maxFrame), WithLogger(slog.New(slog.DiscardHandler)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		s := servers[Protocol(data[0]%2)]
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		proto := s.newProtocol(bytes.NewReader(data[1:]), io.Discard)
		for range 64 { // a stream of at most len(data)/4 frames
			if !inStep(s.process(context.Background(), proto)) {
				break
			}
		}
		runtime.ReadMemStats(&after)
		// Buffers of the stack (about 16 KiB), a frame buffer grown up to
		// the frame limit, and a few copies of what the input holds.
		limit := 64<<10 + 2*maxFrame + 16*uint64(len(data))
		if got := after.TotalAlloc - before.TotalAlloc; got > limit {
			t.Fatalf("%d input bytes made the server allocate %d bytes, more than %d", len(data), got, limit)
		}
	})
}
