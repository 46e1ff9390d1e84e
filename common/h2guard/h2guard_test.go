package h2guard_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/igbank/igbank/common/h2guard"
	"github.com/igbank/igbank/common/hostile"
)

// server serves h2c (and HTTP/1.1) on loopback through the guard and
// records the violations it reports.
type server struct {
	addr string
	mu   sync.Mutex
	seen []h2guard.Violation
}

func (s *server) violations() []h2guard.Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]h2guard.Violation(nil), s.seen...)
}

var reply = bytes.Repeat([]byte("x"), 256<<10)

func serve(t *testing.T, lim h2guard.Limits) *server {
	t.Helper()
	s := &server{}
	lim.OnViolation = func(_ net.Conn, v h2guard.Violation) {
		s.mu.Lock()
		s.seen = append(s.seen, v)
		s.mu.Unlock()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	hs := &http.Server{
		Protocols: &protocols,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				return
			}
			if r.URL.Path == "/big" {
				_, _ = w.Write(reply)
				return
			}
			_, _ = io.WriteString(w, "ok")
		}),
	}
	go func() { _ = hs.Serve(h2guard.Listener(l, lim)) }()
	t.Cleanup(func() { _ = hs.Close() })
	s.addr = l.Addr().String()
	return s
}

func h2cClient() *http.Client {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &protocols}, Timeout: 10 * time.Second}
}

var limits = h2guard.Limits{
	ResetRate:      100,
	ResetBurst:     200,
	RequestTimeout: 300 * time.Millisecond,
	StallTimeout:   300 * time.Millisecond,
}

// A well-behaved client, over HTTP/2 and HTTP/1.1, is served through the
// guard, large responses included, and nothing is reported.
func TestWellBehavedClientsPass(t *testing.T) {
	lim := limits
	lim.RequestTimeout, lim.StallTimeout = 2*time.Second, 2*time.Second // room for a loaded machine
	s := serve(t, lim)
	for name, c := range map[string]*http.Client{"h2c": h2cClient(), "http1": {Timeout: 10 * time.Second}} {
		for i := range 50 {
			path := "/small"
			if i%5 == 0 {
				path = "/big"
			}
			resp, err := c.Post("http://"+s.addr+path, "text/plain", strings.NewReader("hello"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || (path == "/big" && len(b) != len(reply)) {
				t.Fatalf("%s %s: %d bytes, %v", name, path, len(b), err)
			}
			if name == "h2c" && resp.ProtoMajor != 2 {
				t.Fatalf("h2c client spoke %s", resp.Proto)
			}
		}
	}
	time.Sleep(500 * time.Millisecond)
	if v := s.violations(); len(v) != 0 {
		t.Fatalf("violations reported for well-behaved clients: %v", v)
	}
}

func TestRapidResetIsSentGoAway(t *testing.T) {
	s := serve(t, limits)
	r := dial(t, s.addr)
	go func() {
		for id := uint32(1); id < 1<<20; id += 2 {
			if r.Reset(id, "/small") != nil {
				return
			}
		}
	}()
	code, ok := ended(t, r)
	if !ok || code != http2.ErrCodeEnhanceYourCalm {
		t.Errorf("GOAWAY = %v (sent: %v), want ENHANCE_YOUR_CALM", code, ok)
	}
	waitViolation(t, s, h2guard.RapidReset)
}

func TestUnfinishedRequestEndsTheConnection(t *testing.T) {
	s := serve(t, limits)
	r := dial(t, s.addr)
	for id := uint32(1); id <= 21; id += 2 {
		if err := r.Call(id, "/small", make([]byte, 60000), false); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	ended(t, r)
	if d := time.Since(start); d < limits.RequestTimeout/2 {
		t.Errorf("closed after %v, before the request timeout %v", d, limits.RequestTimeout)
	}
	waitViolation(t, s, h2guard.UnfinishedRequest)
}

// A peer that never opens its window, or opens it a byte at a time, loses
// the connection once the stall timeout passes.
func TestStalledResponseEndsTheConnection(t *testing.T) {
	for _, drip := range []bool{false, true} {
		t.Run(map[bool]string{false: "closed", true: "drip"}[drip], func(t *testing.T) {
			s := serve(t, limits)
			r := dial(t, s.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			for id := uint32(1); id <= 9; id += 2 {
				if err := r.Call(id, "/big", nil, true); err != nil {
					t.Fatal(err)
				}
			}
			if drip {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() {
					for ctx.Err() == nil {
						for id := uint32(1); id <= 9; id += 2 {
							_ = r.WindowUpdate(id, 1)
						}
						_ = r.WindowUpdate(0, 5)
						time.Sleep(20 * time.Millisecond)
					}
				}()
			}
			ended(t, r)
			waitViolation(t, s, h2guard.StalledResponse)
		})
	}
}

func waitViolation(t *testing.T, s *server, want h2guard.Violation) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, v := range s.violations() {
			if v == want {
				return
			}
		}
	}
	t.Fatalf("violations %v, want %s", s.violations(), want)
}

// Request bodies begun and not ended may hold only RequestBytes on a
// connection, however many streams carry them.
func TestPendingRequestBytesAreBounded(t *testing.T) {
	lim := limits
	lim.RequestTimeout = time.Minute
	lim.RequestBytes = 256 << 10
	s := serve(t, lim)
	r := dial(t, s.addr)
	go func() {
		for id := uint32(1); id <= 41; id += 2 {
			if r.Call(id, "/small", make([]byte, 16000), false) != nil {
				return
			}
		}
	}()
	ended(t, r)
	waitViolation(t, s, h2guard.RequestBytes)
}

func dial(t *testing.T, addr string, settings ...http2.Setting) *hostile.H2Peer {
	t.Helper()
	p, err := hostile.DialH2(addr, nil, settings...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// ended waits for the server to end p's connection and returns the code
// of the GOAWAY it sent, if any.
func ended(t *testing.T, p *hostile.H2Peer) (http2.ErrCode, bool) {
	t.Helper()
	code, sent, err := p.Released(5*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	return code, sent
}
