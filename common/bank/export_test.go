package bank

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
)

// TokenWithVersion returns tok with its version byte set to v and its
// checksum made right again. (banktest.RewritePageToken does the same for
// the conformance suite; bank's tests do not import banktest, whose
// dependencies would then become those of every module importing bank.)
func TokenWithVersion(tok string, v byte) string {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != pageTokenBytes {
		panic("not a page token: " + tok)
	}
	b[0] = v
	binary.BigEndian.PutUint32(b[24:], crc32.Checksum(b[:24], castagnoli))
	return base64.RawURLEncoding.EncodeToString(b)
}
