package rawbank

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// The health check SERVING, then not serving once Shutdown has begun.
func TestHealth(t *testing.T) { banktest.RunHealth(t, Transport.Variants[0]) }

// Op Health over a hand-made frame: one byte, 1 (SERVING); a payload is
// invalid_argument and the connection stays.
func TestHealthFrame(t *testing.T) {
	addr := startServer(t, nil)
	nc := rawDial(t, addr)
	fr := newFrameReader(nc, 4096, MaxReplyFrame)
	nc.Write(frame(Version, OpHealth, 7, nil))
	if r := readOne(t, fr); r.h.Op != OpHealth|ReplyBit || r.h.Status != bank.OK || r.h.ID != 7 || string(r.payload) != "\x01" {
		t.Fatalf("health reply %+v %q", r.h, r.payload)
	}
	nc.Write(frame(Version, OpHealth, 8, []byte{0}))
	if r := readOne(t, fr); r.h.Status != bank.InvalidArgument || r.h.ID != 8 {
		t.Fatalf("health with a payload: %+v %q", r.h, r.payload)
	}
	c := dialClient(t, addr)
	if st, err := c.Health(context.Background()); err != nil || st != transport.Serving {
		t.Fatalf("Health: %v, %v", st, err)
	}
}

// An error message over MaxErrorMessage bytes is cut on a rune boundary.
func TestErrorMessageCutOnRuneBoundary(t *testing.T) {
	for pad := 0; pad < 4; pad++ {
		msg := strings.Repeat("a", MaxErrorMessage-2+pad) + strings.Repeat("€", 10) // € is 3 bytes
		got := appendErrorMessage(nil, msg)
		if len(got) > MaxErrorMessage || !utf8.Valid(got) || !strings.HasPrefix(msg, string(got)) || len(got) < MaxErrorMessage-3 {
			t.Fatalf("pad %d: cut to %d bytes, valid %t", pad, len(got), utf8.Valid(got))
		}
	}
}

// A second request under the id of a call still in flight is refused with
// a Goodbye invalid_argument naming that id, after the first call's one
// reply: never two replies under one id.
func TestDuplicateRequestIDRefused(t *testing.T) {
	held := &heldBank{Bank: bank.NewService(ledger.NewMemory(10)), entered: make(chan struct{}, 1), release: make(chan struct{})}
	addr := startServer(t, func(bank.Bank) bank.Bank { return held })
	nc := rawDial(t, addr)
	// Both in one write: the server reads the second from its buffer
	// right after handing the first to a worker, which holds it. Released
	// at once, the first call could end before the second was read, and
	// the id would be free again.
	nc.Write(append(frame(Version, OpBalance, 42, balancePayload(1)), frame(Version, OpBalance, 42, balancePayload(2))...))
	<-held.entered
	time.Sleep(100 * time.Millisecond)
	close(held.release)
	fr := newFrameReader(nc, 4096, MaxReplyFrame)
	first, second := readOne(t, fr), readOne(t, fr)
	if first.h.Op != OpBalance|ReplyBit || first.h.ID != 42 || first.h.Status != bank.OK {
		t.Fatalf("first frame %+v, want the first call's reply", first.h)
	}
	wantGoodbye(t, []reply{second}, bank.InvalidArgument, 42)
	if _, _, err := fr.next(); err == nil {
		t.Fatal("a frame after the Goodbye")
	}
}

// heldBank holds Balance calls until release.
type heldBank struct {
	bank.Bank
	entered chan struct{}
	release chan struct{}
}

func (h *heldBank) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	select {
	case h.entered <- struct{}{}:
	default:
	}
	<-h.release
	return h.Bank.Balance(ctx, acc)
}

// A deposit whose timeout (1 µs) has run out by the time the server would
// apply it is answered deadline_exceeded and not applied.
func TestExpiredDeadlineDepositNotApplied(t *testing.T) {
	addr := startServer(t, nil)
	nc := rawDial(t, addr)
	fr := newFrameReader(nc, 4096, MaxReplyFrame)
	b := appendDepositRequest(beginFrame(nil, OpDeposit, bank.OK), bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 500, IdempotencyKey: "late-1"})
	nc.Write(finishFrame(b, 1, 1))
	if r := readOne(t, fr); r.h.Status != bank.DeadlineExceeded {
		t.Fatalf("late deposit: status %v %q, want deadline_exceeded", r.h.Status, r.payload)
	}
	c := dialClient(t, addr)
	if m, err := c.Balance(context.Background(), ledger.SeedAccount(1)); err != nil || m != ledger.SeedBalance(1) {
		t.Fatalf("balance after a late deposit: %v, %v; want %v", m, err, ledger.SeedBalance(1))
	}
}

// FuzzHealthReply: decodeHealthReply accepts exactly the two statuses.
func FuzzHealthReply(f *testing.F) {
	f.Add([]byte{1})
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		st, err := decodeHealthReply(p)
		ok := len(p) == 1 && (p[0] == 1 || p[0] == 2)
		if (err == nil) != ok || (ok && byte(st) != p[0]) {
			t.Fatalf("%x: %v, %v", p, st, err)
		}
	})
}

// TestHiddenCause: the cause of an internal error is logged, not sent
// (banktest.RunHiddenCause).
func TestHiddenCause(t *testing.T) { banktest.RunHiddenCause(t, Transport.Variants[0]) }
