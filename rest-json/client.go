package restbank

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/transport"
)

// Client limits. maxResponseBytes bounds a success response (the
// largest, a statement page of bank.MaxPageSize transactions, is under
// 1 MB); maxProblemBytes bounds an error response.
const (
	maxResponseBytes = 16 << 20
	maxProblemBytes  = 64 << 10
)

// Client is a bank.Bank that calls a restbank server. It is safe for
// concurrent use; it implements transport.Client.
type Client struct {
	host      string
	rt        http.RoundTripper
	transport *http.Transport // nil when the caller supplied the RoundTripper
	header    http.Header     // the header of calls with no per-call header
	scheme    string
}

// newTransport returns the http.Transport the client uses by default:
// keep-alive connections, as many idle connections per host as it may
// open (cfg.Conns), so that concurrent callers reuse theirs instead of
// dialling, no gzip (the bodies are tens of bytes), timeouts on
// dialling and on idle connections, and with cfg.TLS, HTTP/1.1 over TLS. The caller's deadline bounds each
// call through its context.
func newTransport(cfg clientConfig) *http.Transport {
	dialer := cfg.Dialer
	if dialer == nil {
		dialer = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	cfg.Dialer = dialer
	conns := max(cfg.Conns, 1)
	var tlsConfig *tls.Config
	if cfg.TLS != nil {
		// HTTP/1.1 over TLS too: one call per connection, as in plaintext.
		tlsConfig = cfg.TLS.Clone()
		tlsConfig.NextProtos = []string{"http/1.1"}
	}
	return &http.Transport{
		TLSClientConfig: tlsConfig,
		// The handshake gets as long as a dial (0, off: the call's
		// deadline alone).
		TLSHandshakeTimeout:    max(cfg.DialTimeout, 0),
		Proxy:                  nil, // a loopback or in-cluster service; no environment proxies
		DialContext:            cfg.DialContext(),
		MaxIdleConns:           2 * conns,
		MaxIdleConnsPerHost:    conns,
		MaxConnsPerHost:        conns,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  0,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// Dial returns a client of the server at addr (host:port). HTTP connects
// lazily, so Dial does not touch the network: a server that cannot be
// reached makes the first call fail with Unavailable.
func Dial(ctx context.Context, addr string, opts ...ClientOption) (*Client, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, &bank.Error{Code: bank.InvalidArgument, Message: "bad server address", Err: err}
	}
	cfg := defaultClientConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Token != "" && cfg.TLS == nil {
		return nil, bank.Errorf(bank.InvalidArgument, "a bearer token is sent over TLS only: WithToken needs WithClientTLS")
	}
	c := &Client{host: addr, rt: cfg.rt, scheme: "http", header: http.Header{}}
	if cfg.TLS != nil {
		c.scheme = "https"
	}
	if c.rt == nil {
		c.transport = newTransport(cfg)
		c.rt = c.transport
	}
	c.rt = tracedTransport(c.rt, cfg.Tracer)
	if cfg.Token != "" {
		c.header["Authorization"] = []string{"Bearer " + cfg.Token}
	}
	return c, nil
}

// Health implements transport.HealthChecker with GET /healthz: 200 is
// SERVING, 503 with {"status":"NOT_SERVING"} is NOT_SERVING; any other
// answer is an error.
func (c *Client) Health(ctx context.Context) (transport.HealthStatus, error) {
	u := url.URL{Scheme: c.scheme, Host: c.host, Path: HealthPath}
	req := (&http.Request{Method: http.MethodGet, URL: &u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: c.host, Header: c.header}).WithContext(ctx)
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return transport.HealthUnknown, bank.FromContext(ctx, err)
	}
	defer resp.Body.Close()
	body, err := readAll(resp.Body, resp.ContentLength, maxProblemBytes, nil)
	if err != nil {
		return transport.HealthUnknown, bank.FromContext(ctx, err)
	}
	var h struct {
		Status string `json:"status"`
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable ||
		json.Unmarshal(body, &h) != nil || h.Status == "" {
		// A problem+json: a server that is full (503), or not IGBank's.
		return transport.HealthUnknown, decodeProblem(resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	switch {
	case resp.StatusCode == http.StatusOK && h.Status == "SERVING":
		return transport.Serving, nil
	case resp.StatusCode == http.StatusServiceUnavailable && h.Status == "NOT_SERVING":
		return transport.NotServing, nil
	}
	return transport.HealthUnknown, bank.Errorf(bank.Internal, "health: status %d with %q", resp.StatusCode, h.Status)
}

// Close releases the client's idle connections.
func (c *Client) Close() error {
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
	return nil
}

// checkSegment refuses what cannot be one path segment: the empty string,
// "." and ".." (a path with them would be another path), and "/" (escaped
// as %2F it is a segment, but ServeMux's matcher takes a lone "/" for the
// trailing slash of a path, so it never reaches a handler). Everything
// else goes to the server, escaped, and the server validates it.
func checkSegment(what, s string) error {
	if s == "" || s == "." || s == ".." || s == "/" {
		return bank.Errorf(bank.InvalidArgument, "%s %q is malformed", what, s)
	}
	return nil
}

// resource is the URL path of a call: path is its decoded form and raw
// the escaped one, empty when no segment needs escaping (the usual case,
// which then costs no escaping work).
type resource struct{ path, raw, query string }

// accountPath returns the path /v1/accounts/{acc}/{rest...}, with acc and
// the optional last segment escaped as single segments.
func accountPath(acc bank.AccountNo, sub string, last string) resource {
	r := resource{path: "/v1/accounts/" + string(acc) + "/" + sub}
	if last != "" {
		r.path += "/" + last
	}
	ea := url.PathEscape(string(acc))
	el := url.PathEscape(last)
	if ea != string(acc) || el != last {
		r.raw = "/v1/accounts/" + ea + "/" + sub
		if last != "" {
			r.raw += "/" + el
		}
	}
	return r
}

// Balance implements bank.Bank.
func (c *Client) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	if err := checkSegment("account", string(acc)); err != nil {
		return 0, err
	}
	var out balanceJSON
	if _, err := c.call(ctx, http.MethodGet, accountPath(acc, "balance", ""), "", nil, http.StatusOK, &out); err != nil {
		return 0, err
	}
	return bank.Money(out.Balance), nil
}

// Statement implements bank.Bank.
func (c *Client) Statement(ctx context.Context, req bank.StatementRequest) (bank.Statement, error) {
	if err := checkSegment("account", string(req.Account)); err != nil {
		return bank.Statement{}, err
	}
	if err := checkSegment("month", string(req.Month)); err != nil {
		return bank.Statement{}, err
	}
	res := accountPath(req.Account, "statements", string(req.Month))
	if req.PageSize != 0 || req.PageToken != "" {
		q := make(url.Values, 2)
		if req.PageSize != 0 {
			q.Set("page_size", strconv.Itoa(req.PageSize))
		}
		if req.PageToken != "" {
			q.Set("page_token", req.PageToken)
		}
		res.query = q.Encode()
	}
	var out statementJSON
	if _, err := c.call(ctx, http.MethodGet, res, "", nil, http.StatusOK, &out); err != nil {
		return bank.Statement{}, err
	}
	st := bank.Statement{
		Account: bank.AccountNo(out.Account),
		Month:   bank.Month(out.Month),
		Opening: bank.Money(out.Opening),
		Closing: bank.Money(out.Closing),

		NextPageToken: out.NextPageToken,
	}
	if len(out.Transactions) > 0 {
		st.Transactions = make([]bank.Transaction, len(out.Transactions))
		for i, tx := range out.Transactions {
			st.Transactions[i] = bank.Transaction{
				ID:             tx.ID,
				Time:           tx.Time.UTC(),
				Amount:         bank.Money(tx.Amount),
				BalanceAfter:   bank.Money(tx.BalanceAfter),
				IdempotencyKey: tx.IdempotencyKey,
			}
		}
	}
	return st, nil
}

// Deposit implements bank.Bank. The key is checked here as well as on the
// server because an HTTP header cannot carry every string faithfully
// (control characters are refused, surrounding spaces are trimmed).
func (c *Client) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	if err := checkSegment("account", string(req.Account)); err != nil {
		return bank.DepositReceipt{}, err
	}
	if err := bank.ValidateKey(req.IdempotencyKey); err != nil {
		return bank.DepositReceipt{}, err
	}
	var body [40]byte
	var out receiptJSON
	resp, err := c.call(ctx, http.MethodPost, accountPath(req.Account, "deposits", ""), req.IdempotencyKey,
		appendDeposit(body[:0], req.Amount), http.StatusCreated, &out)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	return bank.DepositReceipt{
		TransactionID: out.TransactionID,
		Balance:       bank.Money(out.Balance),
		Replayed:      resp.replayed,
	}, nil
}

type callResult struct {
	replayed bool
}

// call sends one request and decodes a response with status want into out,
// or returns the typed error of any other outcome.
func (c *Client) call(ctx context.Context, method string, path resource, key string, body []byte, want int, out any) (callResult, error) {
	// One allocation holds the request, its URL, body and header values.
	o := &outgoing{}
	o.url = url.URL{Scheme: c.scheme, Host: c.host, Path: path.path, RawPath: path.raw, RawQuery: path.query}
	o.req = http.Request{
		Method:     method,
		URL:        &o.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Host:       c.host,
	}
	dl, hasDeadline := ctx.Deadline()
	if body == nil && !hasDeadline {
		// net/http never modifies a request's header, so calls without
		// per-call headers share one.
		o.req.Header = c.header
	} else {
		h := make(http.Header, 4)
		if auth := c.header["Authorization"]; auth != nil {
			h["Authorization"] = auth
		}
		if hasDeadline {
			left := time.Until(dl)
			if left <= 0 {
				return callResult{}, bank.FromContext(ctx, context.DeadlineExceeded)
			}
			ms := (left + time.Millisecond - 1) / time.Millisecond
			o.timeout[0] = string(strconv.AppendInt(o.num[:0], int64(ms), 10))
			h[headerTimeout] = o.timeout[:]
		}
		if body != nil {
			h["Content-Type"] = hdrJSON
			// The key makes net/http's transport treat the POST as
			// idempotent, so it may resend it on a keep-alive connection
			// the server had closed; the server's idempotency makes that
			// safe.
			o.key[0] = key
			h[headerKey] = o.key[:]
			o.body = bodyReader{b: body}
			o.req.ContentLength = int64(len(body))
			o.req.Body = &o.body
			o.req.GetBody = o.getBody
		}
		o.req.Header = h
	}
	req := o.req.WithContext(ctx)
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return callResult{}, bank.FromContext(ctx, err)
	}
	defer resp.Body.Close()
	limit := int64(maxResponseBytes)
	if resp.StatusCode != want {
		limit = maxProblemBytes
	}
	bp := getBuf()
	defer putBuf(bp)
	*bp, err = readAll(resp.Body, resp.ContentLength, limit, (*bp)[:0])
	if err != nil {
		return callResult{}, bank.FromContext(ctx, err)
	}
	if resp.StatusCode != want {
		return callResult{}, withHeaderHint(decodeProblem(resp.StatusCode, resp.Header.Get("Content-Type"), *bp), resp.Header.Get("Retry-After"))
	}
	if err := json.Unmarshal(*bp, out); err != nil {
		return callResult{}, &bank.Error{Code: bank.Internal, Message: "malformed response", Err: err}
	}
	r := callResult{}
	if v := resp.Header[headerReplayed]; len(v) > 0 && v[0] == "true" {
		r.replayed = true
	}
	return r, nil
}

// outgoing is everything one request needs, allocated at once.
type outgoing struct {
	req     http.Request
	url     url.URL
	body    bodyReader
	key     [1]string
	timeout [1]string
	num     [20]byte
}

func (o *outgoing) getBody() (io.ReadCloser, error) { return &bodyReader{b: o.body.b}, nil }

// bodyReader is a request body over a byte slice.
type bodyReader struct {
	b   []byte
	off int
}

func (r *bodyReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *bodyReader) Close() error { return nil }

var errTooLarge = errors.New("response body too large")

// readAll reads r to the end into buf, refusing more than limit bytes.
func readAll(r io.Reader, size, limit int64, buf []byte) ([]byte, error) {
	if size > limit {
		return buf, errTooLarge
	}
	if size > 0 && int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// withHeaderHint gives an unavailable err that has no retry-after hint of
// its own (a proxy's 503, not IGBank's problem+json) the hint of the
// Retry-After header retryAfter. IGBank's server puts its hint in the
// problem's retry_after_ms, to the millisecond; the 1-second Retry-After
// it sends with every other 503 is for clients that read nothing else,
// and ours does not make every retry wait a second for it.
func withHeaderHint(err error, retryAfter string) error {
	if retryAfter == "" || bank.CodeOf(err) != bank.Unavailable {
		return err
	}
	if _, ok := bank.RetryAfter(err); ok {
		return err
	}
	var be *bank.Error
	if errors.As(err, &be) && strings.HasPrefix(be.Message, "HTTP ") {
		if d, ok := parseRetryAfter(retryAfter, time.Now()); ok {
			return bank.WithRetryAfter(err, d)
		}
	}
	return err
}
