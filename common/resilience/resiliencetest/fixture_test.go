package resiliencetest

import (
	"context"
	"errors"
	"net"
	"net/rpc"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// The suite's own test runs over a small net/rpc transport written here,
// so that common tests the suite over a real socket without importing a
// transport module. The real transports run the suite from loadtest.

func TestSuiteOverNetRPCFixture(t *testing.T) {
	Run(t, newFixtureServer, dialFixture)
}

type Svc struct{ b bank.Bank }

type BalanceReply struct{ M bank.Money }
type StatementArgs = bank.StatementRequest

func encodeErr(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(strconv.Itoa(int(bank.CodeOf(err))) + "|" + err.Error())
}

func (s *Svc) Balance(acc bank.AccountNo, r *BalanceReply) (err error) {
	r.M, err = s.b.Balance(context.Background(), acc)
	return encodeErr(err)
}

func (s *Svc) Statement(a StatementArgs, r *bank.Statement) (err error) {
	*r, err = s.b.Statement(context.Background(), a)
	return encodeErr(err)
}

func (s *Svc) Deposit(req bank.DepositRequest, r *bank.DepositReceipt) (err error) {
	*r, err = s.b.Deposit(context.Background(), req)
	return encodeErr(err)
}

type fixtureServer struct {
	rs     *rpc.Server
	mu     sync.Mutex
	l      net.Listener
	conns  map[net.Conn]bool
	closed bool
}

func newFixtureServer(b bank.Bank) transport.Server {
	rs := rpc.NewServer()
	if err := rs.RegisterName("Bank", &Svc{b}); err != nil {
		panic(err)
	}
	return &fixtureServer{rs: rs, conns: map[net.Conn]bool{}}
}

func (s *fixtureServer) Serve(l net.Listener) error {
	s.mu.Lock()
	s.l = l
	s.mu.Unlock()
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.closed {
				return nil
			}
			return err
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		go func() {
			s.rs.ServeConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *fixtureServer) Shutdown(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.l != nil {
		s.l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	return nil
}

// fixtureClient redials after its connection breaks.
type fixtureClient struct {
	addr string
	mu   sync.Mutex
	c    *rpc.Client
}

func dialFixture(ctx context.Context, addr string) (transport.Client, error) {
	fc := &fixtureClient{addr: addr}
	if _, err := fc.get(ctx); err != nil {
		return nil, err
	}
	return fc, nil
}

func (f *fixtureClient) get(ctx context.Context) (*rpc.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.c != nil {
		return f.c, nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", f.addr)
	if err != nil {
		return nil, bank.FromContext(ctx, err)
	}
	f.c = rpc.NewClient(conn)
	return f.c, nil
}

func (f *fixtureClient) call(ctx context.Context, method string, args, reply any) error {
	c, err := f.get(ctx)
	if err != nil {
		return err
	}
	call := c.Go("Bank."+method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
	case <-ctx.Done():
		return bank.FromContext(ctx, ctx.Err())
	}
	var se rpc.ServerError
	if errors.As(call.Error, &se) {
		code, msg, _ := strings.Cut(string(se), "|")
		n, _ := strconv.Atoi(code)
		return bank.FromCode(bank.Code(n), msg)
	}
	if call.Error != nil {
		f.mu.Lock()
		if f.c == c {
			f.c = nil
			c.Close()
		}
		f.mu.Unlock()
		return bank.FromContext(ctx, call.Error)
	}
	return nil
}

func (f *fixtureClient) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	var r BalanceReply
	err := f.call(ctx, "Balance", acc, &r)
	return r.M, err
}

func (f *fixtureClient) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	var r bank.Statement
	err := f.call(ctx, "Statement", req, &r)
	return r, err
}

func (f *fixtureClient) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	var r bank.DepositReceipt
	err := f.call(ctx, "Deposit", req, &r)
	return r, err
}

func (f *fixtureClient) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.c != nil {
		return f.c.Close()
	}
	return nil
}
