package thriftbank

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
)

// stall reads from r, then fails as a socket whose read deadline passed.
type stall struct{ r io.Reader }

func (s stall) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		return n, os.ErrDeadlineExceeded
	}
	return n, err
}

func frameHeader(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// A frame that announces more than it sends costs what it sent, not what
// it announced, and fails at the read timeout.
func TestFrameBufferGrowsAsBytesArrive(t *testing.T) {
	const announced, sent = MaxRequestFrame - 1, 1000
	in := append(frameHeader(announced), make([]byte, sent)...)
	f := newServerFrames(stall{bytes.NewReader(in)}, io.Discard, MaxRequestFrame, DefaultMaxFrameSize, nil)
	_, err := f.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read of an unfinished frame: %v, want the read timeout", err)
	}
	if c := cap(f.rbuf); c > 2*sent+512 {
		t.Fatalf("buffer of %d bytes for %d bytes sent of a %d-byte frame", c, sent, announced)
	}
}

// A request frame over MaxRequestFrame is refused from its length, before
// any of it is read, whatever the (reply) frame limit.
func TestRequestFrameLimit(t *testing.T) {
	in := append(frameHeader(DefaultMaxFrameSize-1), make([]byte, 100)...)
	r := bytes.NewReader(in)
	f := newServerFrames(r, io.Discard, MaxRequestFrame, DefaultMaxFrameSize, nil)
	if _, err := f.Read(make([]byte, 1)); err == nil {
		t.Fatal("a request frame of 1 MiB - 1 was read")
	}
	if r.Len() != 100 || f.rbuf != nil {
		t.Fatalf("%d bytes left unread, buffer %d bytes; want nothing read past the length", r.Len(), cap(f.rbuf))
	}
}

// Frames are read whole and in order, and a reply goes out as one frame.
func TestFramesRoundTrip(t *testing.T) {
	var in []byte
	for _, m := range []string{"first", "", "third"} {
		in = append(append(in, frameHeader(uint32(len(m)))...), m...)
	}
	var out bytes.Buffer
	f := newServerFrames(bytes.NewReader(in), &out, MaxRequestFrame, DefaultMaxFrameSize, nil)
	got, err := io.ReadAll(f)
	if !errors.Is(err, io.EOF) && err != nil || string(got) != "firstthird" {
		t.Fatalf("read %q, %v", got, err)
	}
	f.WriteString("rep")
	f.WriteByte('l')
	f.Write([]byte("y"))
	if err := f.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := append(frameHeader(5), "reply"...); !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("wrote %q, want %q", out.Bytes(), want)
	}
}
