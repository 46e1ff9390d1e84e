package rawbank

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// Seeds: one valid example of every frame and payload, plus edge cases.
// The fuzzers check that no input panics, that every count and length is
// bounded by the bytes actually present, and that whatever decodes encodes
// back to the same bytes.

func seedStatement() bank.Statement {
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 123, time.UTC)
	return bank.Statement{Account: "000000042", Month: "2026-11", Opening: 100, Closing: 350,
		Transactions: []bank.Transaction{
			{ID: 1, Time: t0, Amount: 50, BalanceAfter: 150, IdempotencyKey: "k1"},
			{ID: 9, Time: t0.Add(time.Hour), Amount: 200, BalanceAfter: 350, IdempotencyKey: ""},
		}}
}

func seedPageRequest() bank.StatementRequest {
	return bank.StatementRequest{Account: "000000042", Month: "2026-11", PageSize: 1000,
		PageToken: bank.EncodePageToken(bank.PageToken{Account: "000000042", Month: "2026-11", After: bank.Cursor{Time: time.Date(2026, 11, 3, 10, 0, 0, 123, time.UTC), ID: 1}})}
}

func seedFrames() [][]byte {
	balance := frame(Version, OpBalance, 1, balancePayload(1))
	dep := frame(Version, OpDeposit, 1<<40, appendDepositRequest(nil, bank.DepositRequest{Account: "000000001", Amount: 5, IdempotencyKey: "key"}))
	st := seedStatement()
	stReply := finishFrame(appendStatementReply(beginFrame(nil, OpStatement|ReplyBit, bank.OK), &st), 3, 0)
	goodbye := finishFrame(append(beginFrame(nil, OpGoodbye, bank.Unavailable), "bye"...), 0, 0)
	authReq := frame(Version, OpAuth, 1, appendAuthRequest(nil, "eyJhbGciOiJFZERTQSJ9.e30.c2ln"))
	authOK := finishFrame(beginFrame(nil, OpAuth|ReplyBit, bank.OK), 1, 0)
	pageReq := frame(Version, OpStatementPage, 2, appendStatementPageRequest(nil, seedPageRequest()))
	st.NextPageToken = seedPageRequest().PageToken
	pageReply := finishFrame(appendStatementPageReply(beginFrame(nil, OpStatementPage|ReplyBit, bank.OK), &st), 2, 0)
	return [][]byte{
		balance, dep, stReply, goodbye, authReq, authOK, pageReq, pageReply,
		append(bytes.Clone(balance), dep...), // two frames
		balance[:len(balance)-1],             // truncated
		{0, 0, 0, 0},                         // length 0
		{0xff, 0xff, 0xff, 0xff},             // huge length
		frame(2, OpBalance, 1, nil),          // other version
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const max = 4096
		h, p, n, err := DecodeFrame(b, max)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) || n > max || n < MinFrameSize || len(p) != n-MinFrameSize {
			t.Fatalf("n = %d, payload %d bytes, input %d bytes", n, len(p), len(b))
		}
		// Re-encoding the header and payload gives the same bytes.
		re := append(beginFrame(nil, h.Op, h.Status), p...)
		re[7] = h.Flags
		re = finishFrame(re, h.ID, h.Timeout)
		if !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoded %x, want %x", re, b[:n])
		}
	})
}

// FuzzFrameReader reads a stream of frames through the connection reader,
// with a read buffer smaller than the limit so that both the in-place and
// the scratch paths run.
func FuzzFrameReader(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const max = 4096
		fr := newFrameReader(bytes.NewReader(b), 64, max)
		for i := 0; ; i++ {
			_, p, err := fr.next()
			if cap(fr.scratch) > max {
				t.Fatalf("scratch grew to %d, over the limit %d", cap(fr.scratch), max)
			}
			if err != nil {
				return
			}
			if len(p) > max || i > len(b)/MinFrameSize {
				t.Fatalf("frame %d: payload of %d bytes from %d input bytes", i, len(p), len(b))
			}
		}
	})
}

func FuzzBalanceRequest(f *testing.F) {
	f.Add(balancePayload(1))
	f.Add([]byte{0, 0})
	f.Add([]byte{0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, p []byte) {
		acc, err := decodeBalanceRequest(p)
		if err == nil && !bytes.Equal(appendBalanceRequest(nil, acc), p) {
			t.Fatalf("round trip of %x gave %q", p, acc)
		}
	})
}

func FuzzStatementRequest(f *testing.F) {
	f.Add(appendStatementRequest(nil, "000000001", "2026-01"))
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		acc, m, err := decodeStatementRequest(p)
		if err == nil && !bytes.Equal(appendStatementRequest(nil, acc, m), p) {
			t.Fatalf("round trip of %x gave %q %q", p, acc, m)
		}
	})
}

func FuzzStatementPageRequest(f *testing.F) {
	f.Add(appendStatementPageRequest(nil, seedPageRequest()))
	f.Add(appendStatementPageRequest(nil, bank.StatementRequest{PageSize: -1}))
	f.Add([]byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // token length past the end
	f.Add([]byte{0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0})    // a byte too many
	f.Fuzz(func(t *testing.T, p []byte) {
		req, err := decodeStatementPageRequest(p)
		if err != nil {
			return
		}
		if len(req.Account)+len(req.Month)+len(req.PageToken) > len(p) {
			t.Fatalf("%x decoded to strings longer than itself", p)
		}
		if !bytes.Equal(appendStatementPageRequest(nil, req), p) {
			t.Fatalf("round trip of %x gave %+v", p, req)
		}
	})
}

func FuzzDepositRequest(f *testing.F) {
	f.Add(appendDepositRequest(nil, bank.DepositRequest{Account: "000000001", Amount: 100, IdempotencyKey: "abc"}))
	f.Add(appendDepositRequest(nil, bank.DepositRequest{Amount: -1}))
	f.Fuzz(func(t *testing.T, p []byte) {
		req, err := decodeDepositRequest(p)
		if err == nil && !bytes.Equal(appendDepositRequest(nil, req), p) {
			t.Fatalf("round trip of %x gave %+v", p, req)
		}
	})
}

func FuzzAuthRequest(f *testing.F) {
	f.Add(appendAuthRequest(nil, "eyJhbGciOiJFZERTQSJ9.e30.c2ln"))
	f.Add(appendAuthRequest(nil, ""))
	f.Add([]byte{0xff, 0xff, 'x'})
	f.Fuzz(func(t *testing.T, p []byte) {
		token, err := decodeAuthRequest(p)
		if err != nil {
			return
		}
		if token == "" {
			t.Fatalf("%x decoded to an empty token", p)
		}
		if !bytes.Equal(appendAuthRequest(nil, token), p) {
			t.Fatalf("round trip of %x gave %q", p, token)
		}
	})
}

func FuzzBalanceReply(f *testing.F) {
	f.Add(appendBalanceReply(nil, 26544341))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeBalanceReply(p)
		if err == nil && !bytes.Equal(appendBalanceReply(nil, m), p) {
			t.Fatalf("round trip of %x gave %d", p, m)
		}
	})
}

func FuzzStatementReply(f *testing.F) {
	st := seedStatement()
	f.Add(appendStatementReply(nil, &st), false)
	st.NextPageToken = seedPageRequest().PageToken
	f.Add(appendStatementPageReply(nil, &st), true)
	st.Transactions = nil
	f.Add(appendStatementReply(nil, &st), false)
	huge := appendStatementReply(nil, &st)
	binary.BigEndian.PutUint32(huge[len(huge)-4:], 0xffffffff) // count with no transactions
	f.Add(huge, false)
	f.Add(append(bytes.Clone(huge), 0xff, 0xff), true) // and a token length past the end
	f.Fuzz(func(t *testing.T, p []byte, paged bool) {
		st, err := decodeStatementReply(p, "000000042", "2026-11", paged)
		if err != nil {
			return
		}
		if !paged && st.NextPageToken != "" {
			t.Fatalf("a Statement reply decoded with a page token %q", st.NextPageToken)
		}
		if len(st.Transactions) > len(p)/minTxSize {
			t.Fatalf("%d transactions from %d bytes", len(st.Transactions), len(p))
		}
		for _, tx := range st.Transactions {
			if tx.Time.Location() != time.UTC {
				t.Fatalf("time %v is not UTC", tx.Time)
			}
		}
		re := appendStatementReply(nil, &st)
		if paged {
			re = appendStatementPageReply(nil, &st)
		}
		if !bytes.Equal(re, p) {
			t.Fatalf("round trip of %x gave %x", p, re)
		}
	})
}

func FuzzDepositReply(f *testing.F) {
	f.Add(appendDepositReply(nil, bank.DepositReceipt{TransactionID: 7, Balance: 100, Replayed: true}))
	f.Add(appendDepositReply(nil, bank.DepositReceipt{}))
	f.Add(append(make([]byte, 16), 2))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := decodeDepositReply(p)
		if err == nil && !bytes.Equal(appendDepositReply(nil, r), p) {
			t.Fatalf("round trip of %x gave %+v", p, r)
		}
	})
}

func FuzzErrorReply(f *testing.F) {
	f.Add(uint8(bank.NotFound), []byte("account 000000001 does not exist"))
	f.Add(uint8(0), []byte{})
	f.Add(uint8(250), []byte("?"))
	f.Fuzz(func(t *testing.T, status uint8, p []byte) {
		err := decodeError(bank.Code(status), p)
		switch {
		case status == 0 && err != nil:
			t.Fatalf("status 0 gave %v", err)
		case status != 0 && (err == nil || bank.CodeOf(err) == bank.OK):
			t.Fatalf("status %d gave %v", status, err)
		case status > uint8(bank.Canceled) && bank.CodeOf(err) != bank.Internal:
			t.Fatalf("unknown status %d gave %v, want internal", status, err)
		}
	})
}

// A count field cannot make the decoder allocate: a statement that claims
// four billion transactions and holds none is rejected with no allocation
// beyond its two strings.
func TestStatementCountIsBounded(t *testing.T) {
	st := seedStatement()
	st.Transactions = nil
	p := appendStatementReply(nil, &st)
	binary.BigEndian.PutUint32(p[len(p)-4:], 0xffffffff)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := decodeStatementReply(p, "", "", false); err == nil {
			t.Fatal("decoded a statement with a count past its bytes")
		}
	})
	if allocs > 2 {
		t.Fatalf("%v allocations, want at most 2 (account and month)", allocs)
	}
}

// The example in PROTOCOL.md is what the code produces, byte for byte.
func TestProtocolExample(t *testing.T) {
	req := frame(Version, OpBalance, 1, balancePayload(1))
	want := "0000001f01010000000000000000000100000000" + "0009303030303030303031" + "3ef468e8"
	if hexs(req) != want {
		t.Fatalf("request = %x, want %s", req, want)
	}
	rep := finishFrame(appendBalanceReply(beginFrame(nil, OpBalance|ReplyBit, bank.OK), ledger.SeedBalance(1)), 1, 0)
	if want := "0000001c01810000000000000000000100000000" + "00000000006c45d1" + "01a9d6aa"; hexs(rep) != want {
		t.Fatalf("reply = %x, want %s", rep, want)
	}
	auth := frame(Version, OpAuth, 1, appendAuthRequest(nil, "abc"))
	if want := "0000001901040000000000000000000100000000" + "0003616263" + "568e424b"; hexs(auth) != want {
		t.Fatalf("Auth request = %x, want %s", auth, want)
	}
	authOK := finishFrame(beginFrame(nil, OpAuth|ReplyBit, bank.OK), 1, 0)
	if want := "0000001401840000000000000000000100000000" + "51637372"; hexs(authOK) != want {
		t.Fatalf("Auth reply = %x, want %s", authOK, want)
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}
