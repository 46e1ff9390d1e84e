package rawbank

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"
	"unicode/utf8"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// Wire constants of protocol version 1; PROTOCOL.md is the specification.
const (
	// Version is the version byte of every frame. Revisions of version 1
	// only add ops (1.1 added OpAuth, 1.2 OpStatementPage), so it stays 1: a peer of an
	// earlier revision answers an op it does not know with an error reply
	// and the connection goes on.
	Version = 1

	// HeaderSize is the size of a frame's fixed header, the length field
	// included; every frame also ends with a 4-byte checksum.
	HeaderSize = 20
	crcSize    = 4
	// MinFrameSize is the size of a frame with an empty payload.
	MinFrameSize = HeaderSize + crcSize

	// MaxRequestFrame is the largest frame a client may send.
	MaxRequestFrame = 64 << 10
	// MaxReplyFrame is the largest frame a server may send.
	MaxReplyFrame = 16 << 20

	// MaxErrorMessage is the longest message an error reply carries.
	MaxErrorMessage = 1024
)

// Operation codes. A reply has the request's op with ReplyBit set; op
// Goodbye (ReplyBit alone) is the server's last frame on a connection.
const (
	OpBalance   byte = 1
	OpStatement byte = 2
	OpDeposit   byte = 3
	// OpAuth (revision 1.1) carries a bearer token; a client sends it as
	// the first request of a connection, and the principal it names is
	// the caller of every later call on that connection.
	OpAuth byte = 4
	// OpStatementPage (revision 1.2) reads one page of a statement: it
	// carries a page size and a page token, and its reply the token of
	// the next page. OpStatement answers a month of more than
	// bank.MaxPageSize transactions with invalid_argument.
	OpStatementPage byte = 5
	// OpHealth (revision 1.3) asks whether the server is serving: an
	// empty request, a reply of one byte, 1 SERVING or 2 NOT_SERVING
	// (transport.HealthStatus). It needs no principal.
	OpHealth  byte = 6
	ReplyBit  byte = 0x80
	OpGoodbye byte = ReplyBit
)

// Revision is the revision of version 1 this package speaks, and the ops
// it knows are 1 to MaxOp.
const (
	Revision = "1.3"
	MaxOp    = OpHealth
)

// minTxSize is the smallest encoded transaction: four i64 and an empty str.
const minTxSize = 4*8 + 2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is the fixed part of a frame.
type Header struct {
	Version byte
	Op      byte
	Status  bank.Code
	Flags   byte
	ID      uint64
	Timeout uint32 // microseconds left to the caller's deadline; 0 = none
}

// FrameError is a frame that cannot be trusted: the connection it came on
// is out of step and must be closed. ID is the request id when the frame's
// checksum was valid, else 0.
type FrameError struct {
	Reason string
	ID     uint64
}

func (e *FrameError) Error() string { return "rawbank: bad frame: " + e.Reason }

// errPayload is the cause of every malformed payload.
var errPayload = errors.New("rawbank: malformed payload")

// statusCodes is the table of status bytes of protocol version 1
// (PROTOCOL.md, "Error replies"): statusCodes[b] is the bank.Code that the
// status byte b of a reply or a Goodbye carries. The bytes are this
// protocol's own and never change; a new bank.Code needs a row here (and in
// PROTOCOL.md) before a server can send it. TestStatusTable holds the table
// to bank.Codes and to PROTOCOL.md.
var statusCodes = [...]bank.Code{
	0:  bank.OK,
	1:  bank.NotFound,
	2:  bank.InvalidArgument,
	3:  bank.IdempotencyKeyReuse,
	4:  bank.InFlight,
	5:  bank.Unavailable,
	6:  bank.DeadlineExceeded,
	7:  bank.Unauthenticated,
	8:  bank.PermissionDenied,
	9:  bank.Internal,
	10: bank.Canceled,
}

// statusByte returns the status byte that carries c. A code with no row
// (one the bank does not define either) travels as the byte of its number,
// which the client reads back as that unknown code: the inverse of
// codeOfStatus.
func statusByte(c bank.Code) byte {
	for b, tc := range statusCodes {
		if tc == c {
			return byte(b)
		}
	}
	return byte(c)
}

// codeOfStatus returns the bank.Code that status byte b carries. A byte
// with no row (from a newer server) becomes the code of that number, which
// this client does not know either; bank.FromCode turns it into Internal
// and names the number, so the error is not lost.
func codeOfStatus(b byte) bank.Code {
	if int(b) < len(statusCodes) {
		return statusCodes[b]
	}
	return bank.Code(b)
}

// beginFrame appends a frame header with a zero length, id and timeout to
// b; finishFrame fills them in once the payload has been appended.
func beginFrame(b []byte, op byte, status bank.Code) []byte {
	return append(b, 0, 0, 0, 0, Version, op, statusByte(status), 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

// finishFrame sets the length, id and timeout of the frame that starts at
// b[0] and appends its checksum.
func finishFrame(b []byte, id uint64, timeout uint32) []byte {
	binary.BigEndian.PutUint32(b[0:], uint32(len(b)+crcSize-4))
	binary.BigEndian.PutUint64(b[8:], id)
	binary.BigEndian.PutUint32(b[16:], timeout)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// frameLen returns the total size of the frame whose first four bytes are
// b, or a FrameError if it is below the minimum or above max.
func frameLen(b []byte, max int) (int, error) {
	n := uint64(binary.BigEndian.Uint32(b)) + 4
	switch {
	case n < MinFrameSize:
		return 0, &FrameError{Reason: fmt.Sprintf("length %d is below the minimum %d", n-4, MinFrameSize-4)}
	case n > uint64(max):
		return 0, &FrameError{Reason: fmt.Sprintf("frame of %d bytes is over the limit of %d", n, max)}
	}
	return int(n), nil
}

// DecodeFrame parses the complete frame at the start of b, which may hold
// more bytes after it, and returns its header, its payload (a sub-slice of
// b) and its total size. A frame longer than max, or one whose checksum or
// version is wrong, is a *FrameError; if b holds less than the whole frame,
// DecodeFrame returns n = 0 and a nil error.
func DecodeFrame(b []byte, max int) (h Header, payload []byte, n int, err error) {
	if len(b) < 4 {
		return h, nil, 0, nil
	}
	n, err = frameLen(b, max)
	if err != nil || len(b) < n {
		return h, nil, 0, err
	}
	f := b[:n]
	if got, want := binary.BigEndian.Uint32(f[n-crcSize:]), crc32.Checksum(f[:n-crcSize], castagnoli); got != want {
		return h, nil, 0, &FrameError{Reason: fmt.Sprintf("checksum %08x, computed %08x", got, want)}
	}
	h = Header{
		Version: f[4],
		Op:      f[5],
		Status:  codeOfStatus(f[6]),
		Flags:   f[7],
		ID:      binary.BigEndian.Uint64(f[8:]),
		Timeout: binary.BigEndian.Uint32(f[16:]),
	}
	if h.Version != Version {
		return h, nil, 0, &FrameError{Reason: fmt.Sprintf("version %d, want %d", h.Version, Version), ID: h.ID}
	}
	return h, f[HeaderSize : n-crcSize], n, nil
}

// timeoutField encodes the time left until deadline for the timeout field.
func timeoutField(d time.Duration) uint32 {
	us := d.Microseconds()
	switch {
	case us < 1:
		return 1
	case us > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(us)
}

// Payload encoders append to b. Strings longer than a u16 count cannot be
// encoded; callers check with strOK first.

func strOK(s string) bool { return len(s) <= math.MaxUint16 }

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendI64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

func appendBalanceRequest(b []byte, acc bank.AccountNo) []byte { return appendStr(b, string(acc)) }

func appendStatementRequest(b []byte, acc bank.AccountNo, m bank.Month) []byte {
	return appendStr(appendStr(b, string(acc)), string(m))
}

// appendStatementPageRequest appends the payload of a StatementPage
// request: the month's, then page_size as an i32 and page_token. The
// caller brings PageSize into the i32's range (bank.PageSize32).
func appendStatementPageRequest(b []byte, req bank.StatementRequest) []byte {
	b = appendStatementRequest(b, req.Account, req.Month)
	b = binary.BigEndian.AppendUint32(b, uint32(int32(req.PageSize)))
	return appendStr(b, req.PageToken)
}

func appendDepositRequest(b []byte, req bank.DepositRequest) []byte {
	b = appendStr(b, string(req.Account))
	b = appendI64(b, int64(req.Amount))
	return appendStr(b, req.IdempotencyKey)
}

func appendBalanceReply(b []byte, m bank.Money) []byte { return appendI64(b, int64(m)) }

// appendStatementPageReply appends a statement's page and the token of
// the next page.
func appendStatementPageReply(b []byte, st *bank.Statement) []byte {
	return appendStr(appendStatementReply(b, st), st.NextPageToken)
}

func appendStatementReply(b []byte, st *bank.Statement) []byte {
	b = appendStr(b, string(st.Account))
	b = appendStr(b, string(st.Month))
	b = appendI64(b, int64(st.Opening))
	b = appendI64(b, int64(st.Closing))
	b = binary.BigEndian.AppendUint32(b, uint32(len(st.Transactions)))
	for i := range st.Transactions {
		tx := &st.Transactions[i]
		b = appendI64(b, tx.ID)
		b = appendI64(b, tx.Time.UnixNano())
		b = appendI64(b, int64(tx.Amount))
		b = appendI64(b, int64(tx.BalanceAfter))
		b = appendStr(b, tx.IdempotencyKey)
	}
	return b
}

func appendDepositReply(b []byte, r bank.DepositReceipt) []byte {
	b = appendI64(b, r.TransactionID)
	b = appendI64(b, int64(r.Balance))
	if r.Replayed {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendErrorMessage appends msg clipped to MaxErrorMessage bytes, on a
// rune boundary: a message longer than the limit is cut before the first
// UTF-8 sequence that does not fit whole, so what is sent stays valid
// UTF-8 when msg was.
func appendErrorMessage(b []byte, msg string) []byte {
	if len(msg) > MaxErrorMessage {
		i := MaxErrorMessage
		for i > 0 && !utf8.RuneStart(msg[i]) {
			i--
		}
		msg = msg[:i]
	}
	return append(b, msg...)
}

// decodeHealthReply reads the payload of an OK reply to OpHealth.
func decodeHealthReply(p []byte) (transport.HealthStatus, error) {
	if len(p) != 1 || (p[0] != byte(transport.Serving) && p[0] != byte(transport.NotServing)) {
		return transport.HealthUnknown, errPayload
	}
	return transport.HealthStatus(p[0]), nil
}

// decoder reads a payload front to back. The first failure sticks, so a
// decode function reads every field and checks err once at the end; no
// read allocates more than the bytes it consumes.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) take(n int) []byte {
	if d.err || n > len(d.b) {
		d.err = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) i64() int64 {
	if v := d.take(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) str() string {
	n := d.take(2)
	if n == nil {
		return ""
	}
	return string(d.take(int(binary.BigEndian.Uint16(n))))
}

// strAs is str, but returns like (without allocating) if the bytes equal it.
func (d *decoder) strAs(like string) string {
	n := d.take(2)
	if n == nil {
		return ""
	}
	b := d.take(int(binary.BigEndian.Uint16(n)))
	if string(b) == like {
		return like
	}
	return string(b)
}

// done reports the decoder's verdict: every field present and nothing left.
func (d *decoder) done() error {
	if d.err || len(d.b) != 0 {
		return errPayload
	}
	return nil
}

func decodeBalanceRequest(p []byte) (bank.AccountNo, error) {
	d := decoder{b: p}
	acc := bank.AccountNo(d.str())
	return acc, d.done()
}

func decodeStatementRequest(p []byte) (bank.AccountNo, bank.Month, error) {
	d := decoder{b: p}
	acc := bank.AccountNo(d.str())
	m := bank.Month(d.str())
	return acc, m, d.done()
}

// decodeStatementPageRequest decodes a StatementPage request. The page
// token is a str like any other (at most 65,535 bytes, inside a frame of
// at most 64 KiB); the service judges its content.
func decodeStatementPageRequest(p []byte) (bank.StatementRequest, error) {
	d := decoder{b: p}
	var req bank.StatementRequest
	req.Account = bank.AccountNo(d.str())
	req.Month = bank.Month(d.str())
	req.PageSize = int(int32(d.u32()))
	req.PageToken = d.str()
	return req, d.done()
}

func decodeDepositRequest(p []byte) (bank.DepositRequest, error) {
	d := decoder{b: p}
	var req bank.DepositRequest
	req.Account = bank.AccountNo(d.str())
	req.Amount = bank.Money(d.i64())
	req.IdempotencyKey = d.str()
	return req, d.done()
}

// appendAuthRequest appends the payload of an Auth request.
func appendAuthRequest(b []byte, token string) []byte { return appendStr(b, token) }

// decodeAuthRequest decodes an Auth request: one non-empty str, the token.
func decodeAuthRequest(p []byte) (string, error) {
	d := decoder{b: p}
	token := d.str()
	if err := d.done(); err != nil || token == "" {
		return "", errPayload
	}
	return token, nil
}

// decodeAuthReply checks the payload of an OK Auth reply, which is empty.
func decodeAuthReply(p []byte) error {
	if len(p) != 0 {
		return errPayload
	}
	return nil
}

func decodeBalanceReply(p []byte) (bank.Money, error) {
	d := decoder{b: p}
	m := bank.Money(d.i64())
	return m, d.done()
}

// decodeStatementReply decodes a statement, or with paged set a page of
// one (a StatementPage reply, which ends with the next page's token). The
// client passes the account and month it asked for, which the reply
// repeats, to save two allocations.
func decodeStatementReply(p []byte, acc bank.AccountNo, month bank.Month, paged bool) (bank.Statement, error) {
	d := decoder{b: p}
	var st bank.Statement
	st.Account = bank.AccountNo(d.strAs(string(acc)))
	st.Month = bank.Month(d.strAs(string(month)))
	st.Opening = bank.Money(d.i64())
	st.Closing = bank.Money(d.i64())
	n := d.u32()
	if d.err || uint64(n) > uint64(len(d.b)/minTxSize) {
		return bank.Statement{}, errPayload
	}
	if n > 0 {
		st.Transactions = make([]bank.Transaction, n)
	}
	for i := range st.Transactions {
		tx := &st.Transactions[i]
		tx.ID = d.i64()
		tx.Time = time.Unix(0, d.i64()).UTC()
		tx.Amount = bank.Money(d.i64())
		tx.BalanceAfter = bank.Money(d.i64())
		tx.IdempotencyKey = d.str()
	}
	if paged {
		st.NextPageToken = d.str()
	}
	if err := d.done(); err != nil {
		return bank.Statement{}, err
	}
	return st, nil
}

func decodeDepositReply(p []byte) (bank.DepositReceipt, error) {
	d := decoder{b: p}
	var r bank.DepositReceipt
	r.TransactionID = d.i64()
	r.Balance = bank.Money(d.i64())
	switch v := d.take(1); {
	case v == nil || v[0] > 1:
		return bank.DepositReceipt{}, errPayload
	default:
		r.Replayed = v[0] == 1
	}
	if err := d.done(); err != nil {
		return bank.DepositReceipt{}, err
	}
	return r, nil
}

// decodeError turns an error reply or a Goodbye (its status, as
// codeOfStatus read it, and its message) into the typed error.
func decodeError(status bank.Code, p []byte) error {
	if len(p) > MaxErrorMessage {
		p = p[:MaxErrorMessage]
	}
	return bank.FromCode(status, string(p))
}
