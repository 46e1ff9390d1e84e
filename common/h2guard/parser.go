package h2guard

// clientPreface begins every HTTP/2 connection from a client (RFC 9113,
// 3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// frame is the header of the frame being parsed, and what its handler
// wants of the payload.
type frame struct {
	length uint32
	typ    byte
	flags  byte
	id     uint32
	// want > 0 asks for the payload in chunks of want bytes, each given
	// to onPayload; a shorter tail is dropped.
	want int
}

// parser follows the frames of one direction of a connection as bytes
// arrive, in pieces of any size, without buffering more than a frame
// header or one small payload chunk.
type parser struct {
	preface   int  // bytes of the client preface still expected
	bad       bool // the stream is not HTTP/2
	head      [9]byte
	nhead     int
	f         frame
	left      uint32 // payload bytes of f still to come
	chunk     [8]byte
	nchunk    int
	onFrame   func(*frame) Violation
	onPayload func(*frame, []byte)
}

// atBoundary reports whether the bytes so far end with a whole frame.
func (p *parser) atBoundary() bool { return p.nhead == 0 && p.left == 0 && p.preface == 0 }

// feed parses b, calling the handlers; it stops at the first violation
// they report.
func (p *parser) feed(b []byte) Violation {
	for len(b) > 0 && !p.bad {
		if p.preface > 0 {
			at := len(clientPreface) - p.preface
			n := min(p.preface, len(b))
			if string(b[:n]) != clientPreface[at:at+n] {
				p.bad = true
				return ""
			}
			p.preface -= n
			b = b[n:]
			continue
		}
		if p.left > 0 {
			n := uint32(len(b))
			if n > p.left {
				n = p.left
			}
			if p.f.want > 0 && p.onPayload != nil {
				for _, c := range b[:n] {
					p.chunk[p.nchunk] = c
					p.nchunk++
					if p.nchunk == p.f.want {
						p.onPayload(&p.f, p.chunk[:p.nchunk])
						p.nchunk = 0
					}
				}
			}
			p.left -= n
			b = b[n:]
			continue
		}
		n := copy(p.head[p.nhead:], b)
		p.nhead += n
		b = b[n:]
		if p.nhead < len(p.head) {
			break
		}
		p.nhead = 0
		h := p.head
		p.f = frame{
			length: uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2]),
			typ:    h[3],
			flags:  h[4],
			id:     uint32(h[5]&0x7f)<<24 | uint32(h[6])<<16 | uint32(h[7])<<8 | uint32(h[8]),
		}
		p.left = p.f.length
		p.nchunk = 0
		if v := p.onFrame(&p.f); v != "" {
			return v
		}
		if p.f.want > len(p.chunk) {
			p.f.want = 0
		}
	}
	return ""
}
