package connectbank_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
)

func newServer(b bank.Bank) transport.Server { return connectbank.NewServer(b) }

func dialer(opts ...connectbank.ClientOption) transport.DialFunc {
	return func(ctx context.Context, addr string) (transport.Client, error) {
		return connectbank.Dial(ctx, addr, opts...)
	}
}

// The Connect client, in each protocol, against the Connect server.
func TestConformance(t *testing.T) {
	for _, p := range connectbank.Protocols {
		t.Run(p.String(), func(t *testing.T) {
			banktest.Run(t, banktest.Transport(newServer, dialer(connectbank.WithProtocol(p))))
		})
	}
	t.Run("connect-http1", func(t *testing.T) {
		banktest.Run(t, banktest.Transport(newServer, dialer(connectbank.WithHTTP1(8))))
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The README's curl commands, made with net/http: a GET for a
// side-effect-free call, and a unary JSON POST, over HTTP/1.1.
func TestPlainHTTP(t *testing.T) {
	addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10))))
	base := "http://" + addr + "/igbank.v1.BankService/"
	do := func(req *http.Request) (int, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req.WithContext(testCtx(t)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.ProtoMajor != 1 {
			t.Errorf("got HTTP/%d, want HTTP/1.1 for a plain client", resp.ProtoMajor)
		}
		return resp.StatusCode, string(body)
	}

	get, _ := http.NewRequest(http.MethodGet, base+"Balance?encoding=json&message="+url.QueryEscape(`{"account":"000000003"}`), nil)
	code, body := do(get)
	want := `"balanceCents":"` + strconv.FormatInt(int64(ledger.SeedBalance(3)), 10) + `"`
	if code != http.StatusOK || !strings.Contains(body, want) {
		t.Fatalf("GET Balance: %d %s, want 200 with %s", code, body, want)
	}

	post, _ := http.NewRequest(http.MethodPost, base+"Deposit", strings.NewReader(`{"account":"000000003","amountCents":"250","idempotencyKey":"curl-1"}`))
	post.Header.Set("Content-Type", "application/json")
	code, body = do(post)
	want = `"balanceCents":"` + strconv.FormatInt(int64(ledger.SeedBalance(3)+250), 10) + `"`
	if code != http.StatusOK || !strings.Contains(body, want) {
		t.Fatalf("POST Deposit: %d %s, want 200 with %s", code, body, want)
	}

	// Errors are Connect's JSON errors with the ErrorInfo detail.
	get, _ = http.NewRequest(http.MethodGet, base+"Balance?encoding=json&message="+url.QueryEscape(`{"account":"999999999"}`), nil)
	code, body = do(get)
	if code != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) || !strings.Contains(body, `"reason":"NOT_FOUND"`) {
		t.Fatalf("GET Balance of an unknown account: %d %s", code, body)
	}

	// A deposit is not side-effect free: GET is refused.
	get, _ = http.NewRequest(http.MethodGet, base+"Deposit?encoding=json&message="+url.QueryEscape(`{"account":"000000003","amountCents":"1","idempotencyKey":"g"}`), nil)
	if code, body = do(get); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET Deposit: %d %s, want 405", code, body)
	}
}

type panicking struct{ bank.Bank }

func (panicking) Balance(context.Context, bank.AccountNo) (bank.Money, error) { panic("boom") }

func TestHandlerPanicIsInternal(t *testing.T) {
	for _, p := range connectbank.Protocols {
		addr := banktest.Serve(t, connectbank.NewServer(panicking{bank.NewService(ledger.NewMemory(10))}))
		c, err := connectbank.Dial(context.Background(), addr, connectbank.WithProtocol(p))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Balance(testCtx(t), ledger.SeedAccount(1))
		if !errors.Is(err, bank.ErrInternal) || !strings.Contains(err.Error(), "panic in") || strings.Contains(err.Error(), "boom") {
			t.Fatalf("%v: Balance of a panicking server: %v, want internal naming the panic but not its value", p, err)
		}
		if _, err := c.Statement(testCtx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); err != nil {
			t.Fatalf("%v: the server did not survive the panic: %v", p, err)
		}
	}
}

// A request body over the limit is refused with a typed error.
func TestOversizedRequest(t *testing.T) {
	addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10))))
	big := strings.Repeat("k", connectbank.MaxRequestBytes+1)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/igbank.v1.BankService/Deposit",
		strings.NewReader(`{"account":"000000003","amountCents":"1","idempotencyKey":"`+big+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req.WithContext(testCtx(t)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "resource_exhausted") {
		t.Fatalf("oversized request: %d %s, want resource_exhausted", resp.StatusCode, body)
	}
	c, err := connectbank.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Deposit(testCtx(t), bank.DepositRequest{Account: "000000001", Amount: 1, IdempotencyKey: "bad\xff"})
	if !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("deposit with a key that is not UTF-8: %v, want invalid argument", err)
	}
}

func TestShutdownLetsCallsFinish(t *testing.T) {
	slow := &banktest.Slow{Bank: bank.NewService(ledger.NewMemory(10)), Delay: 300 * time.Millisecond}
	srv := connectbank.NewServer(slow)
	addr := banktest.Serve(t, srv)
	c, err := connectbank.Dial(context.Background(), addr, connectbank.WithProtocol(connectbank.GRPC))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res := make(chan error, 1)
	go func() {
		_, err := c.Balance(testCtx(t), ledger.SeedAccount(1))
		res <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := srv.Shutdown(testCtx(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-res; err != nil {
		t.Fatalf("call in progress at Shutdown: %v, want it to finish", err)
	}
}

func TestBadAddress(t *testing.T) {
	if _, err := connectbank.Dial(context.Background(), "no-port"); !errors.Is(err, bank.ErrInvalidArgument) {
		t.Fatalf("Dial without a port: %v", err)
	}
}

// The Connect client sends Balance and Statement as HTTP GET and Deposit
// as POST; gRPC and gRPC-Web are POST only.
func TestSideEffectFreeCallsUseGET(t *testing.T) {
	for _, p := range connectbank.Protocols {
		var mu sync.Mutex
		methods := map[string]string{}
		record := connectbank.WithHTTPServer(func(hs *http.Server) {
			next := hs.Handler
			hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				methods[path.Base(r.URL.Path)] = r.Method
				mu.Unlock()
				next.ServeHTTP(w, r)
			})
		})
		addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10)), record))
		c, err := connectbank.Dial(context.Background(), addr, connectbank.WithProtocol(p))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Balance(testCtx(t), ledger.SeedAccount(1)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Statement(testCtx(t), bank.StatementRequest{Account: ledger.SeedAccount(1), Month: "2026-01"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Deposit(testCtx(t), bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 1, IdempotencyKey: "get-test"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"Balance": http.MethodPost, "Statement": http.MethodPost, "Deposit": http.MethodPost}
		if p == connectbank.Connect {
			want["Balance"], want["Statement"] = http.MethodGet, http.MethodGet
		}
		mu.Lock()
		for m, w := range want {
			if methods[m] != w {
				t.Errorf("%v: %s was sent as %q, want %s", p, m, methods[m], w)
			}
		}
		mu.Unlock()
	}
}

// TestAdmission runs the admission section (a flood of idle connections,
// the first-request deadline, a server full of busy connections) over
// every protocol.
func TestAdmission(t *testing.T) {
	for _, v := range connectbank.Transport.Variants {
		t.Run(v.Name, func(t *testing.T) { banktest.RunAdmission(t, v) })
	}
}

// TestManyCallsFewConnections makes 1,000 calls at once through one
// client, in each HTTP/2 protocol, to a server that holds at most 32
// connections: beyond the server's 100 streams per connection the client
// opens a few more connections and then queues, rather than dialing one
// per waiting call, which the server would refuse.
func TestManyCallsFewConnections(t *testing.T) {
	for _, p := range connectbank.Protocols {
		t.Run(p.String(), func(t *testing.T) {
			addr := banktest.Serve(t, connectbank.NewServer(bank.NewService(ledger.NewMemory(10)), connectbank.WithMaxConns(32)))
			c, err := connectbank.Dial(testCtx(t), addr, connectbank.WithProtocol(p))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := testCtx(t)
			var wg sync.WaitGroup
			errs := make(chan error, 1000)
			for range 1000 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := c.Balance(ctx, ledger.SeedAccount(1)); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			n := 0
			var first error
			for err := range errs {
				if first == nil {
					first = err
				}
				n++
			}
			if n > 0 {
				t.Fatalf("%d of 1000 calls failed, the first: %v", n, first)
			}
		})
	}
}
