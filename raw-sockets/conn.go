package rawbank

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"time"
)

// frameReader reads frames from a connection. A frame that fits in the
// read buffer is returned in place; a larger one is read into scratch,
// which grows as its bytes arrive, up to max and no further, so a peer can
// never make it buffer more than max bytes for one frame, nor more than
// twice what it has sent.
type frameReader struct {
	r       *bufio.Reader
	max     int
	scratch []byte
	pending int // bytes of the last frame still to discard from r

	// Deadlines (a server's): idle while waiting for a frame's first byte,
	// read once it has begun. Zero means none.
	idle, read  time.Duration
	setDeadline func(t time.Time) error // the connection's SetReadDeadline
}

func newFrameReader(r io.Reader, size, max int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, size), max: max}
}

// errIdle is returned when no frame began within the idle timeout.
var errIdle = errors.New("rawbank: connection idle")

// next returns the next frame's header and payload. The payload is valid
// until the following call.
func (fr *frameReader) next() (Header, []byte, error) {
	if fr.pending > 0 {
		fr.r.Discard(fr.pending)
		fr.pending = 0
	}
	if cap(fr.scratch) > 1<<20 {
		fr.scratch = nil // do not hold on to a rare huge frame's memory
	}
	if fr.r.Buffered() == 0 {
		if fr.idle > 0 {
			fr.setDeadline(time.Now().Add(fr.idle))
		}
		if _, err := fr.r.Peek(1); err != nil {
			if isTimeout(err) {
				return Header{}, nil, errIdle
			}
			return Header{}, nil, err
		}
	}
	// The frame has begun: the rest must come within the read timeout.
	readSet := false
	if fr.read > 0 && fr.r.Buffered() < 4 {
		fr.setDeadline(time.Now().Add(fr.read))
		readSet = true
	}
	b, err := fr.r.Peek(4)
	if err != nil {
		return Header{}, nil, noEOF(err)
	}
	n, err := frameLen(b, fr.max)
	if err != nil {
		return Header{}, nil, err
	}
	if fr.read > 0 && !readSet && fr.r.Buffered() < n {
		fr.setDeadline(time.Now().Add(fr.read))
	}
	if n <= fr.r.Size() {
		if b, err = fr.r.Peek(n); err != nil {
			return Header{}, nil, noEOF(err)
		}
		fr.pending = n
	} else {
		// Grow scratch as the frame's bytes arrive, never from its
		// length field: a peer that announces a large frame and stalls
		// pins what it sent (at most twice that), not what it announced.
		fr.scratch = fr.scratch[:0]
		for len(fr.scratch) < n {
			if len(fr.scratch) == cap(fr.scratch) {
				fr.scratch = grow(fr.scratch, min(max(2*len(fr.scratch), 4096), n))
			}
			m, err := fr.r.Read(fr.scratch[len(fr.scratch):min(cap(fr.scratch), n)])
			fr.scratch = fr.scratch[:len(fr.scratch)+m]
			if err != nil && len(fr.scratch) < n {
				return Header{}, nil, noEOF(err)
			}
		}
		b = fr.scratch
	}
	h, p, _, err := DecodeFrame(b, fr.max)
	return h, p, err
}

// grow returns b with capacity c, its bytes copied.
func grow(b []byte, c int) []byte {
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// noEOF reports a frame cut short as such, not as a clean end of stream.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// frameWriter writes whole frames to a connection from many goroutines and
// coalesces them. A writer appends its frame to a queue in memory and
// returns at once, so no caller ever waits on the network; a flusher
// goroutine first yields, so that writers that are ready to run add their
// frames too, then sends the whole queue in one system call while writers
// fill the other of two buffers. Under load many frames share a write; a
// writer that knows it is alone sends its frame itself, saving the hop.
// The flusher runs only while the connection is busy: it starts with the
// first frame it has to send and ends after flusherIdle without one, so
// a quiet connection holds no goroutine for it.
type frameWriter struct {
	nc        net.Conn
	timeout   time.Duration // per write to nc; 0 = none
	maxQueued int           // bytes queued beyond which writers wait, or (wait false) the peer counts as stuck
	wait      bool          // a full queue makes writers wait (the server's calls) rather than fail (the client's callers, who have deadlines of their own)
	onError   func(error)   // called once when the connection fails

	mu       sync.Mutex
	flushing bool          // the flusher runs
	queue    []byte        // frames not yet handed to the socket
	err      error         // sticky: the connection is broken
	drained  chan struct{} // made by a writer waiting for room; closed when the queue is taken or fails

	ioMu  sync.Mutex // held while writing to nc
	spare []byte     // the idle buffer; only the ioMu holder touches it

	kick    chan struct{} // cap 1: there is something to send
	stop    chan struct{}
	once    sync.Once
	errOnce sync.Once
}

// errStuck is the failure of a peer that has not read what it was sent.
var errStuck = errors.New("rawbank: peer is not reading; write queue full")

func newFrameWriter(nc net.Conn, timeout time.Duration, maxQueued int, wait bool, onError func(error)) *frameWriter {
	w := &frameWriter{nc: nc, timeout: timeout, maxQueued: maxQueued, wait: wait, onError: onError,
		// No buffer until there is something to send: the two grow by
		// append as replies are queued, so a quiet connection holds none.
		kick: make(chan struct{}, 1), stop: make(chan struct{})}
	return w
}

// write queues a copy of frame. A frame is always accepted into an empty
// queue, so one large reply goes through whatever maxQueued is. When the
// queue is full, a writer that may wait (w.wait) waits for the flusher to
// take it, for at most the write timeout, and one that may not fails: the calls of a connection whose peer does not read stop
// there, holding their replies, until the connection fails (errStuck).
// With at most maxCallsPerConn calls, that bounds what a peer that does
// not read can make the connection hold.
func (w *frameWriter) write(frame []byte, alone bool) error {
	w.mu.Lock()
	var expired <-chan time.Time
	for w.err == nil && len(w.queue) > 0 && len(w.queue)+len(frame) > w.maxQueued {
		if !w.wait {
			w.err = errStuck
			w.wakeLocked()
			w.mu.Unlock()
			w.fail(errStuck)
			return errStuck
		}
		if w.drained == nil {
			w.drained = make(chan struct{})
		}
		drained := w.drained
		w.mu.Unlock()
		if expired == nil && w.timeout > 0 {
			t := time.NewTimer(w.timeout)
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-drained:
			w.mu.Lock()
		case <-expired:
			w.mu.Lock()
			if w.err == nil {
				w.err = errStuck
				w.wakeLocked()
			}
			w.mu.Unlock()
			w.fail(errStuck)
			return errStuck
		}
	}
	err := w.err
	if err == nil {
		w.queue = append(w.queue, frame...)
	}
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if alone && w.ioMu.TryLock() {
		err = w.send()
		w.ioMu.Unlock()
		return err
	}
	w.mu.Lock()
	start := !w.flushing
	w.flushing = true
	w.mu.Unlock()
	if start {
		go w.flusher()
		return nil
	}
	select {
	case w.kick <- struct{}{}:
	default: // a send is already due
	}
	return nil
}

// sync sends everything queued so far before it returns.
func (w *frameWriter) sync() error {
	w.ioMu.Lock()
	defer w.ioMu.Unlock()
	return w.send()
}

// flusher sends what is queued, then what is kicked, until flusherIdle
// passes with nothing to send, the connection fails or it is closed.
func (w *frameWriter) flusher() {
	idle := time.NewTimer(flusherIdle)
	defer idle.Stop()
	for {
		runtime.Gosched() // let the writers that are ready add their frames
		if w.sync() != nil {
			return
		}
		idle.Reset(flusherIdle)
		select {
		case <-w.kick:
			continue
		case <-w.stop:
			return
		case <-idle.C:
		}
		// Quiet: end, unless a frame came in since the last send (its
		// writer saw the flusher running and only kicked).
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.flushing = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
}

// flusherIdle is how long the flusher waits for frames before it ends.
const flusherIdle = time.Second

// send writes the queue to nc; the caller holds ioMu.
func (w *frameWriter) send() error {
	w.mu.Lock()
	b, err := w.queue, w.err
	if err == nil && len(b) > 0 {
		w.queue, w.spare = w.spare[:0], nil
		w.wakeLocked()
	}
	w.mu.Unlock()
	if err != nil || len(b) == 0 {
		return err
	}
	if w.timeout > 0 {
		w.nc.SetWriteDeadline(time.Now().Add(w.timeout))
	}
	if _, err = w.nc.Write(b); err != nil {
		w.mu.Lock()
		w.err = err
		w.wakeLocked()
		w.mu.Unlock()
		w.fail(err)
		return err
	}
	if cap(b) <= maxPooledBuf {
		w.spare = b[:0]
	} else {
		w.spare = nil // let a burst's big buffer go
	}
	return nil
}

// wakeLocked wakes the writers waiting for room; the caller holds mu.
func (w *frameWriter) wakeLocked() {
	if w.drained != nil {
		close(w.drained)
		w.drained = nil
	}
}

func (w *frameWriter) fail(err error) {
	if w.onError != nil {
		w.errOnce.Do(func() { w.onError(err) })
	}
}

// close stops the flusher; frames not yet sent are dropped.
func (w *frameWriter) close() { w.once.Do(func() { close(w.stop) }) }

// maxQueued is the most a server connection queues for a peer that does
// not read; past it, the calls wait for the queue to be taken.
// clientMaxQueued is a client connection's: past it, the server counts as
// stuck and the connection fails.
const (
	maxQueued       = 1 << 20
	clientMaxQueued = 4 << 20
)

// bufPool holds frame buffers for encoding requests and replies.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledBuf keeps a rare huge statement from pinning memory in the pool.
const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
