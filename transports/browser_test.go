package transports_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/banktest"
	"github.com/igbank/igbank/common/devcerts"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
	connectbank "github.com/igbank/igbank/connect"
	"github.com/igbank/igbank/proto/igbankv1"
)

// browserDir is the web page that calls the Connect server with
// connect-web.
var browserDir = filepath.Join("..", "interop", "browser")

// browserCall is what interop/browser/app.js writes for one protocol.
type browserCall struct {
	Error     string `json:"error"`
	Balance   string `json:"balance"`
	Statement struct {
		Opening string   `json:"opening"`
		Closing string   `json:"closing"`
		IDs     []string `json:"ids"`
	} `json:"statement"`
	Deposit struct {
		TransactionID string `json:"transaction_id"`
		Balance       string `json:"balance"`
		Replayed      bool   `json:"replayed"`
	} `json:"deposit"`
	NotFound struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"not_found"`
}

// TestBrowser loads interop/browser in headless Chromium from one origin
// and lets it call the Connect server on another, started with
// -cors-origins naming the page's origin: balance, a statement, a deposit
// and an unknown account, over the Connect protocol and then over
// gRPC-Web, with connect-web. The results are checked against the
// service. The same page from an origin the server does not name gets
// nothing: the browser refuses every call. Then the same over TLS (and
// so HTTP/2 by ALPN), Chromium trusting the server's key alone
// (--ignore-certificate-errors-spki-list), not every certificate.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	needTool(t, "chromium", "apt-get install -y chromium", chromium != "")
	_, err := os.Stat(filepath.Join(browserDir, "node_modules", "@connectrpc", "connect-web"))
	needTool(t, "interop/browser/node_modules", "cd interop/browser && npm ci", err == nil)
	t.Run("plaintext", func(t *testing.T) { testBrowser(t, chromium, false) })
	t.Run("tls", func(t *testing.T) { testBrowser(t, chromium, true) })
}

func testBrowser(t *testing.T, chromium string, secure bool) {

	// The page's origin and another, both serving the page and taking
	// the results it posts to /result.
	page, other := listen(t), listen(t)
	results := make(chan []byte, 1)
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir(browserDir)))
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			select {
			case results <- b:
			default:
			}
		}
	})
	pages := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	for _, l := range []net.Listener{page, other} {
		go pages.Serve(l)
	}
	t.Cleanup(func() { pages.Close() })
	pageOrigin := "http://" + page.Addr().String()

	// The Connect server as its cmd/server makes it from
	// -cors-origins ORIGIN (common/cli's ServerFlags.ServerConfig).
	cfg := transport.ServerConfig{CORSOrigins: []string{pageOrigin}}
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	svc := bank.NewService(ledger.NewMemory(10, ledger.WithClock(func() time.Time { return now })))
	month, acc := bank.MonthOf(now), ledger.SeedAccount(3)
	ctx := context.Background()
	for k := range 3 {
		if _, err := svc.Deposit(ctx, bank.DepositRequest{Account: acc, Amount: bank.Money(100 + k), IdempotencyKey: fmt.Sprintf("seed-%d", k)}); err != nil {
			t.Fatal(err)
		}
	}
	var pin []string
	scheme := "http://"
	if secure {
		pki := banktest.NewPKI(t)
		cfg.TLS = pki.ServerTLS(t, false)
		pair, err := tls.LoadX509KeyPair(filepath.Join(pki.Dir, devcerts.ServerCert), filepath.Join(pki.Dir, devcerts.ServerKey))
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
		pin = []string{"--ignore-certificate-errors-spki-list=" + base64.StdEncoding.EncodeToString(sum[:])}
		scheme = "https://"
	}
	server := scheme + banktest.Serve(t, connectbank.Transport.Variants[0].NewServer(svc, cfg))
	st, err := svc.Statement(ctx, bank.StatementRequest{Account: acc, Month: month, PageSize: bank.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tx := range st.Transactions {
		ids = append(ids, strconv.FormatInt(tx.ID, 10))
	}
	before := int64(st.Closing)

	query := fmt.Sprintf("/index.html?server=%s&account=%s&month=%s&key=browser", server, acc, month)
	got := runChromium(t, chromium, pageOrigin+query, results, pin...)
	c, w := got["connect"], got["grpc-web"]
	check := func(protocol string, r browserCall, balance int64, ids []string) {
		t.Helper()
		if r.Error != "" {
			t.Fatalf("%s: %s", protocol, r.Error)
		}
		if r.Balance != fmt.Sprint(balance) {
			t.Errorf("%s: balance %s, want %d", protocol, r.Balance, balance)
		}
		if r.Statement.Opening != fmt.Sprint(int64(st.Opening)) || r.Statement.Closing != fmt.Sprint(balance) || fmt.Sprint(r.Statement.IDs) != fmt.Sprint(ids) {
			t.Errorf("%s: statement %+v, want opening %d, closing %d, ids %v", protocol, r.Statement, st.Opening, balance, ids)
		}
		if r.Deposit.Balance != fmt.Sprint(balance+150) || r.Deposit.Replayed || r.Deposit.TransactionID == "" {
			t.Errorf("%s: deposit %+v, want balance %d, not replayed", protocol, r.Deposit, balance+150)
		}
		if r.NotFound.Code != "5" || r.NotFound.Message == "" { // Code.NotFound
			t.Errorf("%s: unknown account: %+v, want code 5 (not_found) and a message", protocol, r.NotFound)
		}
	}
	check("connect", c, before, ids)
	check("grpc-web", w, before+150, append(ids, c.Deposit.TransactionID))
	if bal, _ := svc.Balance(ctx, acc); int64(bal) != before+300 {
		t.Errorf("balance after both deposits %d, want %d", bal, before+300)
	}

	// From an origin the server does not name, the browser refuses every
	// call, and nothing reaches the bank.
	got = runChromium(t, chromium, "http://"+other.Addr().String()+query, results, pin...)
	for _, protocol := range []string{"connect", "grpc-web"} {
		if got[protocol].Error == "" {
			t.Errorf("%s from an origin not allowed: %+v, want an error", protocol, got[protocol])
		}
	}
	if bal, _ := svc.Balance(ctx, acc); int64(bal) != before+300 {
		t.Errorf("balance after the calls from another origin %d, want %d", bal, before+300)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// runChromium loads url in headless Chromium and waits, a minute at most,
// for the results the page posts to its own origin (results), then
// stops Chromium and decodes them. Waiting for the post, rather than
// dumping the DOM when Chromium thinks the page idle, holds on a loaded
// machine too.
func runChromium(t *testing.T, chromium, url string, results <-chan []byte, flags ...string) map[string]browserCall {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--no-first-run",
		"--user-data-dir=" + t.TempDir()}, flags...)
	cmd := exec.CommandContext(ctx, chromium, append(args, url)...)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var b []byte
	select {
	case b = <-results:
		cancel() // stops Chromium
		<-exited
	case err := <-exited:
		t.Fatalf("chromium %s exited before the page posted its results: %v\n%s", url, err, stderr.Bytes())
	case <-ctx.Done():
		<-exited
		t.Fatalf("chromium %s: no results from the page within a minute\n%s", url, stderr.Bytes())
	}
	var got map[string]browserCall
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("chromium %s: the page posted %q: %v", url, b, err)
	}
	return got
}

// TestBrowserSchema checks that the descriptor interop/browser/bank_pb.js
// embeds is the one proto/igbankv1 was generated from, so the page cannot
// drift from the contract.
func TestBrowserSchema(t *testing.T) {
	fd := protodesc.ToFileDescriptorProto(igbankv1.File_igbank_v1_bank_proto)
	fd.SourceCodeInfo = nil
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(fd)
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(browserDir, "bank_pb.js"))
	if err != nil {
		t.Fatal(err)
	}
	want := base64.StdEncoding.EncodeToString(b)
	if m := regexp.MustCompile(`fileDesc\(\s*"([^"]*)"`).FindSubmatch(js); m == nil || string(m[1]) != want {
		t.Fatalf("interop/browser/bank_pb.js does not embed proto/igbank/v1/bank.proto's descriptor; its fileDesc string should be\n%s", want)
	}
}
