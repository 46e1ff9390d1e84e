package admit_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/admit"
)

// server is an echo server of lines behind an Admission: a line is a
// call (Begin when it arrives whole, End once answered); "hold" is a call
// that stays in progress until the connection closes.
type server struct {
	a    *admit.Admission
	addr string
	wg   sync.WaitGroup
}

func start(t *testing.T, cfg admit.Config) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{a: admit.New(cfg), addr: l.Addr().String()}
	al := s.a.Listener(l)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := al.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go s.serve(nc)
		}
	}()
	t.Cleanup(func() { al.Close(); s.wg.Wait() })
	return s
}

func (s *server) serve(nc net.Conn) {
	defer s.wg.Done()
	defer nc.Close()
	c := admit.Of(nc)
	br := bufio.NewReader(nc)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		c.Begin()
		if strings.TrimSpace(line) == "hold" {
			io.WriteString(nc, "holding\n")
			io.Copy(io.Discard, br) // until the connection closes
			c.End()
			return
		}
		_, err = io.WriteString(nc, "ok\n")
		c.End()
		if err != nil {
			return
		}
	}
}

type client struct {
	nc net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{nc, bufio.NewReader(nc)}
}

func (c *client) call(line string) (string, error) {
	if _, err := io.WriteString(c.nc, line+"\n"); err != nil {
		return "", err
	}
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := c.br.ReadString('\n')
	return strings.TrimSpace(s), err
}

func (c *client) mustCall(t *testing.T, line, want string) {
	t.Helper()
	if got, err := c.call(line); err != nil || got != want {
		t.Fatalf("call %q: %q, %v; want %q", line, got, err, want)
	}
}

// closed reports whether the server has closed c, waiting up to 5 s.
func (c *client) closed() bool {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// waitConns waits until the admission holds n connections.
func waitConns(t *testing.T, a *admit.Admission, n int) {
	t.Helper()
	for i := 0; a.Stats().Conns != n; i++ {
		if i == 500 {
			t.Fatalf("%d connections admitted, want %d", a.Stats().Conns, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReclaimsSilentOldestFirst(t *testing.T) {
	s := start(t, admit.Config{MaxConns: 3})
	silent1 := dial(t, s.addr)
	waitConns(t, s.a, 1)
	silent2 := dial(t, s.addr)
	waitConns(t, s.a, 2)
	used := dial(t, s.addr)
	used.mustCall(t, "ping", "ok") // idle now, but has spoken
	waitConns(t, s.a, 3)

	fresh := dial(t, s.addr)
	fresh.mustCall(t, "ping", "ok")
	if !silent1.closed() {
		t.Fatal("the oldest silent connection was not reclaimed")
	}
	fresh2 := dial(t, s.addr)
	fresh2.mustCall(t, "ping", "ok")
	if !silent2.closed() {
		t.Fatal("the second silent connection was not reclaimed")
	}
	used.mustCall(t, "ping", "ok") // a connection that spoke outlives the silent ones
	if st := s.a.Stats(); st.Reclaimed != 2 || st.Refused != 0 {
		t.Fatalf("stats %+v, want 2 reclaimed, none refused", st)
	}
}

func TestReclaimsIdleLongest(t *testing.T) {
	s := start(t, admit.Config{MaxConns: 2})
	older := dial(t, s.addr)
	older.mustCall(t, "ping", "ok")
	newer := dial(t, s.addr)
	newer.mustCall(t, "ping", "ok")
	time.Sleep(5 * time.Millisecond)
	newer.mustCall(t, "ping", "ok") // active more recently than older
	waitConns(t, s.a, 2)

	fresh := dial(t, s.addr)
	fresh.mustCall(t, "ping", "ok")
	if !older.closed() {
		t.Fatal("the connection idle the longest was not reclaimed")
	}
	newer.mustCall(t, "ping", "ok")
}

func TestRefusesWhenAllBusy(t *testing.T) {
	refused := make(chan struct{}, 1)
	s := start(t, admit.Config{MaxConns: 2, Refuse: func(nc net.Conn) {
		io.WriteString(nc, "full\n")
		refused <- struct{}{}
	}})
	for range 2 {
		busy := dial(t, s.addr)
		busy.mustCall(t, "hold", "holding")
	}
	extra := dial(t, s.addr)
	extra.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := extra.br.ReadString('\n'); err != nil || got != "full\n" {
		t.Fatalf("connection to a full server read %q, %v; want the refusal", got, err)
	}
	<-refused
	if !extra.closed() {
		t.Fatal("refused connection left open")
	}
	if st := s.a.Stats(); st.Refused != 1 || st.Reclaimed != 0 || st.Conns != 2 {
		t.Fatalf("stats %+v, want 1 refused, 2 held", st)
	}
}

func TestRefusedWithoutRefuseIsClosed(t *testing.T) {
	s := start(t, admit.Config{MaxConns: 1})
	busy := dial(t, s.addr)
	busy.mustCall(t, "hold", "holding")
	extra := dial(t, s.addr)
	if !extra.closed() {
		t.Fatal("connection to a full server left open")
	}
}

func TestSlotFreedOnClose(t *testing.T) {
	s := start(t, admit.Config{MaxConns: 1})
	busy := dial(t, s.addr)
	busy.mustCall(t, "hold", "holding")
	busy.nc.Close()
	waitConns(t, s.a, 0)
	next := dial(t, s.addr)
	next.mustCall(t, "ping", "ok")
	if st := s.a.Stats(); st.Refused != 0 || st.Reclaimed != 0 {
		t.Fatalf("stats %+v, want nothing refused or reclaimed", st)
	}
}

func TestFirstRequestDeadline(t *testing.T) {
	s := start(t, admit.Config{FirstRequest: 100 * time.Millisecond})
	silent := dial(t, s.addr)
	partial := dial(t, s.addr)
	io.WriteString(partial.nc, "pi") // never a whole request
	served := dial(t, s.addr)
	served.mustCall(t, "ping", "ok")

	if !silent.closed() || !partial.closed() {
		t.Fatal("a connection without a first request outlived FirstRequest")
	}
	time.Sleep(200 * time.Millisecond)
	served.mustCall(t, "ping", "ok") // the deadline is for the first request only
	if st := s.a.Stats(); st.Expired != 2 || st.Conns != 1 {
		t.Fatalf("stats %+v, want 2 expired, 1 held", st)
	}
}

func TestConnState(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := admit.New(admit.Config{MaxConns: 1})
	entered, release := make(chan struct{}), make(chan struct{})
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/hold" {
				entered <- struct{}{}
				<-release
			}
		}),
		ConnState: admit.ConnState,
	}
	go hs.Serve(a.Listener(l))
	defer hs.Close()
	url := "http://" + l.Addr().String()

	// A keep-alive connection between requests is idle: reclaimed for a
	// new one.
	idle := &http.Client{Transport: &http.Transport{}}
	if _, err := idle.Get(url + "/"); err != nil {
		t.Fatal(err)
	}
	waitConns(t, a, 1)
	other := &http.Client{Transport: &http.Transport{}}
	done := make(chan error, 1)
	go func() {
		resp, err := other.Get(url + "/hold")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	if a.Stats().Reclaimed != 1 {
		t.Fatalf("stats %+v, want the idle keep-alive connection reclaimed", a.Stats())
	}
	// A connection with a request in progress is not: the next is refused.
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection to a server full of busy ones was not closed")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("request in progress: %v", err)
	}
	if st := a.Stats(); st.Refused != 1 {
		t.Fatalf("stats %+v, want 1 refused", st)
	}
}

func TestLookup(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := admit.New(admit.Config{})
	al := a.Listener(l)
	defer al.Close()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sc, err := al.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Lookup(sc.LocalAddr(), sc.RemoteAddr()); got == nil || got != admit.Of(sc) {
		t.Fatalf("Lookup = %p, want %p", got, admit.Of(sc))
	}
	sc.Close()
	if got := a.Lookup(sc.LocalAddr(), sc.RemoteAddr()); got != nil {
		t.Fatal("Lookup found a closed connection")
	}
}
