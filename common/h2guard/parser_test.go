package h2guard

import (
	"reflect"
	"testing"
)

// The parser sees the same frames and payload chunks however the bytes are
// split, and never panics, whatever the bytes.
func FuzzParser(f *testing.F) {
	f.Add([]byte(clientPreface+"\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00"+"\x00\x00\x04\x08\x00\x00\x00\x00\x01\x00\x00\x00\x10"), uint8(3))
	f.Add([]byte(clientPreface+"\x00\x00\x00\x01\x05\x00\x00\x00\x01\x00\x00\x04\x03\x00\x00\x00\x00\x01\x00\x00\x00\x08"), uint8(1))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		whole := record(b, len(b))
		split := record(b, int(step%17)+1)
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("split by %d: %v, whole: %v", step%17+1, split, whole)
		}
	})
}

func record(b []byte, step int) []string {
	var seen []string
	p := parser{preface: len(clientPreface)}
	p.onFrame = func(f *frame) Violation {
		seen = append(seen, string([]byte{f.typ, f.flags, byte(f.id), byte(f.length)}))
		if f.typ == frameSettings {
			f.want = 6
		}
		if f.typ == frameWindowUpdate {
			f.want = 4
		}
		return ""
	}
	p.onPayload = func(_ *frame, c []byte) { seen = append(seen, "payload:"+string(c)) }
	for len(b) > 0 {
		n := min(step, len(b))
		p.feed(b[:n])
		b = b[n:]
	}
	if p.bad {
		seen = append(seen, "bad")
	}
	return seen
}
