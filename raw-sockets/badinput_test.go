package rawbank

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// startServer serves a fresh 100-account bank (wrapped by wrap, if not nil)
// on loopback and returns its address.
func startServer(t *testing.T, wrap func(bank.Bank) bank.Bank, opts ...ServerOption) string {
	t.Helper()
	var b bank.Bank = bank.NewService(ledger.NewMemory(100))
	if wrap != nil {
		b = wrap(b)
	}
	opts = append([]ServerOption{WithLogger(banktest.Logger(t))}, opts...)
	return banktest.Serve(t, NewServer(b, opts...))
}

func dialClient(t *testing.T, addr string, opts ...ClientOption) *Client {
	t.Helper()
	c, err := Dial(context.Background(), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return nc
}

// frame builds a request frame with any version, op and id.
func frame(version, op byte, id uint64, payload []byte) []byte {
	b := append(beginFrame(nil, op, bank.OK), payload...)
	b[4] = version
	return finishFrame(b, id, 0)
}

func balancePayload(i int) []byte { return appendBalanceRequest(nil, ledger.SeedAccount(i)) }

type reply struct {
	h       Header
	payload []byte
}

// readAll reads the server's frames until it closes the connection.
func readAll(t *testing.T, nc net.Conn) []reply {
	t.Helper()
	fr := newFrameReader(nc, 4096, MaxReplyFrame)
	var out []reply
	for {
		h, p, err := fr.next()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				t.Fatalf("after %d frames: %v, want the server to close the connection", len(out), err)
			}
			return out
		}
		out = append(out, reply{h, bytes.Clone(p)})
	}
}

func readOne(t *testing.T, fr *frameReader) reply {
	t.Helper()
	h, p, err := fr.next()
	if err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	return reply{h, bytes.Clone(p)}
}

func wantGoodbye(t *testing.T, got []reply, status bank.Code, id uint64) {
	t.Helper()
	if len(got) != 1 || got[0].h.Op != OpGoodbye || got[0].h.Status != status || got[0].h.ID != id || got[0].h.Version != Version {
		t.Fatalf("got %+v, want one Goodbye with status %v and id %d", got, status, id)
	}
	t.Logf("goodbye: %s", got[0].payload)
}

// stillServes checks that a client connected before the bad input is
// still served.
func stillServes(t *testing.T, c *Client) {
	t.Helper()
	if m, err := c.Balance(context.Background(), ledger.SeedAccount(5)); err != nil || m != ledger.SeedBalance(5) {
		t.Fatalf("other client: Balance = %d, %v", m, err)
	}
}

// servedAfterReclaim checks that c, whose connection the server
// reclaimed, is served on a new one. Its first call may have been sent on
// the closed connection before the client saw it close: that call fails
// as unavailable, which a caller may retry (the retry layer does).
func servedAfterReclaim(t *testing.T, c *Client) {
	t.Helper()
	if _, err := c.Balance(context.Background(), ledger.SeedAccount(5)); err != nil && !errors.Is(err, bank.ErrUnavailable) {
		t.Fatalf("call on a reclaimed connection: %v, want success or unavailable", err)
	}
	stillServes(t, c)
}

func TestBadFramesCloseTheConnection(t *testing.T) {
	addr := startServer(t, nil)
	other := dialClient(t, addr, WithConns(1))
	stillServes(t, other)

	good := frame(Version, OpBalance, 7, balancePayload(1))
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-6] ^= 0x01
	oversized := binary.BigEndian.AppendUint32(nil, MaxRequestFrame-3) // one byte over
	oversized = append(oversized, make([]byte, 64)...)
	short := append(binary.BigEndian.AppendUint32(nil, 5), 1, 1, 0, 0, 0)
	for _, tc := range []struct {
		name   string
		send   []byte
		status bank.Code
		id     uint64
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), bank.InvalidArgument, 0},
		{"oversized", oversized, bank.InvalidArgument, 0},
		{"max uint32 length", []byte{0xff, 0xff, 0xff, 0xff, 0}, bank.InvalidArgument, 0},
		{"length below minimum", short, bank.InvalidArgument, 0},
		{"bad checksum", badCRC, bank.InvalidArgument, 0},
		{"bad checksum after a good frame", append(bytes.Clone(good), badCRC...), bank.InvalidArgument, 0},
		{"unknown version", frame(2, OpBalance, 9, balancePayload(1)), bank.InvalidArgument, 9},
		{"version 0", frame(0, OpBalance, 10, balancePayload(1)), bank.InvalidArgument, 10},
		{"request id 0", frame(Version, OpBalance, 0, balancePayload(1)), bank.InvalidArgument, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := rawDial(t, addr)
			if _, err := nc.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, nc)
			if tc.name == "bad checksum after a good frame" {
				if len(got) != 2 || got[0].h.ID != 7 || got[0].h.Status != bank.OK {
					t.Fatalf("got %+v, want the good frame's reply first", got)
				}
				got = got[1:]
			}
			wantGoodbye(t, got, tc.status, tc.id)
			stillServes(t, other)
		})
	}
}

func TestTruncatedFrames(t *testing.T) {
	addr := startServer(t, nil, WithTimeouts(transport.Timeouts{Read: 200 * time.Millisecond}))
	other := dialClient(t, addr, WithConns(1))
	good := frame(Version, OpBalance, 3, balancePayload(1))

	t.Run("peer closes mid-frame", func(t *testing.T) {
		nc := rawDial(t, addr)
		nc.Write(good[:len(good)-5])
		nc.(*net.TCPConn).CloseWrite()
		if got := readAll(t, nc); len(got) != 0 {
			t.Fatalf("got %+v, want the connection closed without a reply", got)
		}
		stillServes(t, other)
	})
	t.Run("peer stalls mid-frame", func(t *testing.T) {
		nc := rawDial(t, addr)
		nc.Write(good[:len(good)-5])
		wantGoodbye(t, readAll(t, nc), bank.DeadlineExceeded, 0)
		stillServes(t, other)
	})
	t.Run("peer stalls mid-header", func(t *testing.T) {
		nc := rawDial(t, addr)
		nc.Write(good[:2])
		wantGoodbye(t, readAll(t, nc), bank.DeadlineExceeded, 0)
		stillServes(t, other)
	})
}

// A well-formed frame with an op or payload the server cannot serve gets an
// error reply, and the connection goes on: its stream is still in step.
func TestBadRequestsKeepTheConnection(t *testing.T) {
	addr := startServer(t, nil)
	nc := rawDial(t, addr)
	fr := newFrameReader(nc, 4096, MaxReplyFrame)
	for i, tc := range []struct {
		name string
		op   byte
		body []byte
	}{
		{"unknown op", 9, balancePayload(1)},
		{"reply op", OpBalance | ReplyBit, balancePayload(1)},
		{"goodbye op", OpGoodbye, nil},
		{"trailing byte", OpBalance, append(balancePayload(1), 0)},
		{"string past the end", OpBalance, []byte{0, 10, '1'}},
		{"empty payload", OpDeposit, nil},
		{"deposit missing key", OpDeposit, appendI64(appendStr(nil, "000000001"), 5)},
	} {
		id := uint64(100 + i)
		if _, err := nc.Write(frame(Version, tc.op, id, tc.body)); err != nil {
			t.Fatal(err)
		}
		r := readOne(t, fr)
		if r.h.ID != id || r.h.Status != bank.InvalidArgument || r.h.Op != tc.op|ReplyBit {
			t.Fatalf("%s: got %+v %q, want an invalid_argument reply to id %d", tc.name, r.h, r.payload, id)
		}
		// The same connection still serves a good request.
		nc.Write(frame(Version, OpBalance, id+1000, balancePayload(2)))
		r = readOne(t, fr)
		if m, err := decodeBalanceReply(r.payload); r.h.ID != id+1000 || r.h.Status != bank.OK || err != nil || m != ledger.SeedBalance(2) {
			t.Fatalf("%s: then got %+v %q", tc.name, r.h, r.payload)
		}
	}
}

func TestIdleConnectionIsClosed(t *testing.T) {
	addr := startServer(t, nil, WithTimeouts(transport.Timeouts{Idle: 100 * time.Millisecond}))
	nc := rawDial(t, addr)
	wantGoodbye(t, readAll(t, nc), bank.Unavailable, 0)

	// The client reconnects after the server dropped its idle connection.
	c := dialClient(t, addr, WithConns(1))
	stillServes(t, c)
	time.Sleep(300 * time.Millisecond)
	stillServes(t, c)
}

// A call that outlives the idle timeout does not make its connection idle,
// and a fast call sent after a slow one is answered first.
func TestIdleTimeoutSparesCallsInFlight(t *testing.T) {
	slow := &banktest.Slow{Delay: time.Second}
	fast := bank.NewService(ledger.NewMemory(100))
	addr := startServer(t, func(b bank.Bank) bank.Bank {
		slow.Bank = b
		return splitBank{slow: slow, fast: fast}
	}, WithTimeouts(transport.Timeouts{Idle: 100 * time.Millisecond}))
	t.Cleanup(slow.Release)
	nc := rawDial(t, addr)
	fr := newFrameReader(nc, 4096, MaxReplyFrame)
	nc.Write(frame(Version, OpBalance, 1, balancePayload(1))) // slow
	time.Sleep(300 * time.Millisecond)
	nc.Write(frame(Version, OpBalance, 2, balancePayload(2))) // fast
	for _, want := range []uint64{2, 1} {
		r := readOne(t, fr)
		if r.h.ID != want || r.h.Status != bank.OK {
			t.Fatalf("got %+v %q, want the reply to id %d", r.h, r.payload, want)
		}
	}
}

// splitBank sends Balance of account 1 to slow and everything else to fast.
type splitBank struct{ slow, fast bank.Bank }

func (s splitBank) pick(acc bank.AccountNo) bank.Bank {
	if acc == ledger.SeedAccount(1) {
		return s.slow
	}
	return s.fast
}

func (s splitBank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	return s.pick(acc).Balance(ctx, acc)
}

func (s splitBank) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	return s.pick(req.Account).Statement(ctx, req)
}

func (s splitBank) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	return s.pick(req.Account).Deposit(ctx, req)
}

type panicky struct{ bank.Bank }

func (p panicky) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if acc == ledger.SeedAccount(13) {
		panic("boom")
	}
	return p.Bank.Balance(ctx, acc)
}

func TestPanicIsAnInternalError(t *testing.T) {
	addr := startServer(t, func(b bank.Bank) bank.Bank { return panicky{b} })
	c := dialClient(t, addr, WithConns(1))
	_, err := c.Balance(context.Background(), ledger.SeedAccount(13))
	if !errors.Is(err, bank.ErrInternal) {
		t.Fatalf("Balance of the panicking account: %v, want internal", err)
	}
	stillServes(t, c)
}

// A burst of concurrent slow calls starts a worker each; afterwards at most
// maxIdleWorkers of them stay.
func TestBurstLeavesFewWorkers(t *testing.T) {
	slow := &banktest.Slow{Delay: 200 * time.Millisecond}
	addr := startServer(t, func(b bank.Bank) bank.Bank { slow.Bank = b; return slow })
	t.Cleanup(slow.Release)
	c := dialClient(t, addr, WithConns(1))
	stillServes(t, c)
	before := runtime.NumGoroutine()
	const burst = 100
	var wg sync.WaitGroup
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Balance(context.Background(), ledger.SeedAccount(1)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 100 && runtime.NumGoroutine() > before+maxIdleWorkers; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+maxIdleWorkers {
		t.Fatalf("%d goroutines after the burst, %d before: workers were left behind", n, before)
	}
}

// A frame larger than the read buffer is read into a buffer that grows
// as its bytes arrive: a peer that announces 64 KiB and sends 20 KiB pins
// about that, not what it announced.
func TestLargeFrameBufferGrowsAsBytesArrive(t *testing.T) {
	const announced, sent = MaxRequestFrame, 20 << 10
	in := binary.BigEndian.AppendUint32(nil, announced-4)
	in = append(in, make([]byte, sent)...)
	fr := newFrameReader(bytes.NewReader(in), 16<<10, MaxRequestFrame)
	if _, _, err := fr.next(); err == nil {
		t.Fatal("an unfinished frame was read")
	}
	if c := cap(fr.scratch); c > 2*sent+4096 {
		t.Fatalf("buffer of %d bytes for %d bytes sent of a %d-byte frame", c, sent, announced)
	}
}
