package rawbank

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/bank"
)

// The status-byte table has a row for every bank code (OK included), its
// bytes are those PROTOCOL.md lists, and every byte, known or not, reads
// back as itself, so a newer server's status is never lost.
func TestStatusTable(t *testing.T) {
	for _, c := range append([]bank.Code{bank.OK}, bank.Codes()...) {
		b := statusByte(c)
		if int(b) >= len(statusCodes) || statusCodes[b] != c {
			t.Errorf("code %v has no row in statusCodes (sent as byte %d)", c, b)
		}
		if codeOfStatus(b) != c {
			t.Errorf("code %v: byte %d reads back as %v", c, b, codeOfStatus(b))
		}
	}
	for b := 0; b < 256; b++ {
		if got := statusByte(codeOfStatus(byte(b))); got != byte(b) {
			t.Errorf("byte %d reads as %v, which is sent as byte %d", b, codeOfStatus(byte(b)), got)
		}
	}
	for b := len(statusCodes); b < 256; b++ {
		if err := decodeError(codeOfStatus(byte(b)), []byte("m")); bank.CodeOf(err) != bank.Internal || !strings.Contains(err.Error(), strconv.Itoa(b)) {
			t.Errorf("unknown status byte %d gave %v, want internal naming the byte", b, err)
		}
	}

	doc, err := os.ReadFile("PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "| status | code |\n|---:|---|\n")
	if !ok {
		t.Fatal("PROTOCOL.md has no status table")
	}
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| ") {
			break
		}
		f := strings.Split(strings.Trim(line, "| "), " | ")
		b, err := strconv.Atoi(f[0])
		c, known := bank.ParseCode(f[len(f)-1])
		if len(f) != 2 || err != nil || !known || b < 0 || b > 255 {
			t.Fatalf("PROTOCOL.md: malformed status row %q", line)
		}
		if got := codeOfStatus(byte(b)); got != c {
			t.Errorf("PROTOCOL.md: status %d is %v, statusCodes says %v", b, c, got)
		}
		rows++
	}
	if rows != len(statusCodes) {
		t.Errorf("PROTOCOL.md lists %d statuses, statusCodes %d", rows, len(statusCodes))
	}
}
