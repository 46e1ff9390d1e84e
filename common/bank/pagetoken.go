package bank

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"time"
)

// A page token is the position of a statement page, handed to the client
// in NextPageToken and back in the next StatementRequest. Clients treat it
// as opaque. It is the base64url encoding, without padding, of
//
//	offset size field
//	     0    1 version (1)
//	     1    4 account, as a big-endian unsigned integer (nine digits fit)
//	     5    2 the month's year, big-endian
//	     7    1 the month, 1 to 12
//	     8    8 the time of the last transaction returned, Unix nanoseconds, big-endian
//	    16    8 the ID of that transaction, big-endian
//	    24    4 CRC-32C (Castagnoli) of bytes 0 to 23, big-endian
//
// 28 bytes, 38 characters. The checksum detects a token damaged in transit
// or by hand; it is not a MAC: anyone can build a well-formed token. That
// is harmless, because a token only says where to resume within the
// account and month it names, those must be the request's own, and
// authorization is checked on the request's account: a forged token lets a
// caller skip within a statement it may read anyway.
const (
	pageTokenVersion = 1
	pageTokenBytes   = 28
	// MaxPageTokenLen is the longest page token a server accepts, in bytes;
	// anything longer is InvalidArgument before it is decoded. Transports
	// may bound their decoders by it.
	MaxPageTokenLen = 64
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Cursor is a position in an account's transactions: the time and ID of
// the last transaction of a page. The next page holds the transactions
// that sort after it by (Time, ID).
type Cursor struct {
	Time time.Time
	ID   int64
}

// Before reports whether tx sorts after c, that is whether c is before tx
// in (Time, ID) order.
func (c Cursor) Before(tx Transaction) bool {
	if n := c.Time.Compare(tx.Time); n != 0 {
		return n < 0
	}
	return c.ID < tx.ID
}

// PageToken is the decoded content of a page token.
type PageToken struct {
	Account AccountNo
	Month   Month
	After   Cursor
}

// EncodePageToken returns the token of t. t.Account and t.Month must be
// valid (ValidateAccount, ValidateMonth).
func EncodePageToken(t PageToken) string {
	var b [pageTokenBytes]byte
	b[0] = pageTokenVersion
	acc, _ := strconv.ParseUint(string(t.Account), 10, 32)
	binary.BigEndian.PutUint32(b[1:], uint32(acc))
	start, _, _ := t.Month.Range()
	binary.BigEndian.PutUint16(b[5:], uint16(start.Year()))
	b[7] = byte(start.Month())
	binary.BigEndian.PutUint64(b[8:], uint64(t.After.Time.UnixNano()))
	binary.BigEndian.PutUint64(b[16:], uint64(t.After.ID))
	binary.BigEndian.PutUint32(b[24:], crc32.Checksum(b[:24], castagnoli))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var tokenEncoding = base64.RawURLEncoding.Strict()

// DecodePageToken returns the content of the token s. A token that is too
// long, not base64url, of the wrong length, damaged (checksum), of an
// unknown version or naming no valid account or month is InvalidArgument.
// It does not check that the token belongs to a request: ValidateStatement
// does.
func DecodePageToken(s string) (PageToken, error) {
	if len(s) > MaxPageTokenLen {
		return PageToken{}, Errorf(InvalidArgument, "page token is %d bytes, more than %d", len(s), MaxPageTokenLen)
	}
	var b [pageTokenBytes]byte
	if tokenEncoding.DecodedLen(len(s)) != pageTokenBytes {
		return PageToken{}, Errorf(InvalidArgument, "page token is malformed")
	}
	if n, err := tokenEncoding.Decode(b[:], []byte(s)); err != nil || n != pageTokenBytes {
		return PageToken{}, Errorf(InvalidArgument, "page token is malformed")
	}
	if binary.BigEndian.Uint32(b[24:]) != crc32.Checksum(b[:24], castagnoli) {
		return PageToken{}, Errorf(InvalidArgument, "page token is damaged (checksum mismatch)")
	}
	if b[0] != pageTokenVersion {
		return PageToken{}, Errorf(InvalidArgument, "page token has version %d, which this server does not know", b[0])
	}
	acc := binary.BigEndian.Uint32(b[1:])
	year, month := binary.BigEndian.Uint16(b[5:]), b[7]
	if acc > 999_999_999 || year > 9999 || month < 1 || month > 12 {
		return PageToken{}, Errorf(InvalidArgument, "page token is malformed")
	}
	var a [AccountNoLen]byte
	putDigits(a[:], uint64(acc))
	var m [7]byte
	putDigits(m[:4], uint64(year))
	m[4] = '-'
	putDigits(m[5:], uint64(month))
	return PageToken{
		Account: AccountNo(a[:]),
		Month:   Month(m[:]),
		After: Cursor{
			Time: time.Unix(0, int64(binary.BigEndian.Uint64(b[8:]))).UTC(),
			ID:   int64(binary.BigEndian.Uint64(b[16:])),
		},
	}, nil
}

// putDigits writes n in decimal into b, right-aligned with leading zeros;
// n must have at most len(b) digits.
func putDigits(b []byte, n uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = '0' + byte(n%10)
		n /= 10
	}
}
