package netrpcbank_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/gob"
	"io"
	"net"
	"net/rpc"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	netrpcbank "github.com/igbank/igbank/netrpc"
)

// oneConnListener hands out one connection, then blocks until closed.
type oneConnListener struct {
	conn   chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conn:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *oneConnListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *oneConnListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// closeSignal closes closed when the server closes the connection.
type closeSignal struct {
	net.Conn
	closed chan struct{}
	once   sync.Once
}

func (c *closeSignal) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// requestBytes is what a net/rpc client sends for the given calls.
func requestBytes(calls ...any) []byte {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	for i := 0; i+1 < len(calls); i += 2 {
		enc.Encode(&rpc.Request{ServiceMethod: calls[i].(string), Seq: uint64(i)})
		enc.Encode(calls[i+1])
	}
	return buf.Bytes()
}

// FuzzServerInput sends arbitrary bytes to a server as one connection's
// input, then hangs up: the server must not panic, must close its side,
// and must shut down cleanly at the end. (That it also closes a connection
// on bad input by itself is TestGarbageClosesOnlyThatConnection.)
//
//	cd netrpc && go test -run '^$' -fuzz FuzzServerInput -fuzztime 60s .
func FuzzServerInput(f *testing.F) {
	valid := requestBytes(
		netrpcbank.MethodBalance, &netrpcbank.BalanceArgs{Account: "000000001"},
		netrpcbank.MethodStatement, &netrpcbank.StatementArgs{Account: "000000001", Month: "2026-01"},
		netrpcbank.MethodDeposit, &netrpcbank.DepositArgs{Request: bank.DepositRequest{Account: "000000002", Amount: 5, IdempotencyKey: "k"}},
	)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(requestBytes("IGBank.Nope", &netrpcbank.BalanceArgs{}, netrpcbank.MethodBalance, &netrpcbank.DepositArgs{}))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{0xfc, 0x00, 0x10, 0x00, 0x00})
	f.Add([]byte{})
	// IGBank.Authenticate: a good token, then calls; a second
	// Authenticate; an empty token; a token of another key.
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	token, err := auth.NewSigner(key).Token(auth.Teller, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(requestBytes(
		netrpcbank.MethodAuthenticate, &netrpcbank.AuthenticateArgs{Token: token},
		netrpcbank.MethodBalance, &netrpcbank.BalanceArgs{Account: "000000001"},
		netrpcbank.MethodAuthenticate, &netrpcbank.AuthenticateArgs{Token: token},
	))
	f.Add(requestBytes(netrpcbank.MethodAuthenticate, &netrpcbank.AuthenticateArgs{}))
	f.Add(requestBytes(netrpcbank.MethodAuthenticate, &netrpcbank.AuthenticateArgs{Token: token[:len(token)-2] + "xx"},
		netrpcbank.MethodDeposit, &netrpcbank.DepositArgs{Request: bank.DepositRequest{Account: "000000002", Amount: 5, IdempotencyKey: "k"}}))
	srv := netrpcbank.NewServer(newBank(), netrpcbank.WithMaxRequestBytes(16<<10), netrpcbank.WithTokens(auth.NewVerifier(pub)))
	l := &oneConnListener{conn: make(chan net.Conn), closed: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			f.Errorf("Shutdown: %v", err)
		}
		<-served
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		sc := &closeSignal{Conn: server, closed: make(chan struct{})}
		select {
		case l.conn <- sc:
		case <-time.After(10 * time.Second):
			t.Fatal("the server does not accept")
		}
		go io.Copy(io.Discard, client) // the replies
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write(data) // fails early if the server closed first
		client.Close()
		// Whatever the input, once the client has hung up the server
		// finishes the calls it started and closes its side.
		select {
		case <-sc.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the server did not close the connection after the client hung up")
		}
	})
}
