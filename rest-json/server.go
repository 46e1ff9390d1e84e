package restbank

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/igbank/igbank/common/admit"
	"github.com/igbank/igbank/common/auth"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/logs"
	"github.com/igbank/igbank/common/tlsconf"
	"github.com/igbank/igbank/common/transport"
)

// MaxRequestTimeout is the default of WithMaxCallTimeout: the longest
// deadline a client may ask for with the Request-Timeout header (the
// server's write timeout caps it too, past which no answer can be written
// anyway).
const MaxRequestTimeout = 5 * time.Minute

// readHeaderTimeout bounds the time to read a request's header.
const readHeaderTimeout = 5 * time.Second

// Server serves a bank.Bank over HTTP/1.1 with JSON (and HTTP/2 when a
// TLS client asks for it). It implements transport.Server.
type Server struct {
	bank bank.Bank
	cfg  serverConfig
	http *http.Server
	mux  *http.ServeMux
	// maxTimeout caps Request-Timeout: MaxCallTimeout or WriteTimeout.
	maxTimeout time.Duration
	// tls is the config of the handshakes (nil: plaintext).
	tls *tls.Config
	// authenticate says whether API requests carry credentials to read
	// (TLS or tokens on).
	authenticate bool
	// admit is the connection limit and first-request deadline.
	admit *admit.Admission
	// shut is set when Shutdown begins: /healthz answers 503 NOT_SERVING.
	shut atomic.Bool
}

// NewServer returns a server of b.
func NewServer(b bank.Bank, opts ...ServerOption) *Server {
	cfg := defaultServerConfig()
	for _, o := range opts {
		o(&cfg)
	}
	cfg.Logger = cfg.Logger.With(logs.Transport, "rest")
	b = logs.Hidden(b, cfg.Logger)
	s := &Server{bank: b, cfg: cfg, mux: http.NewServeMux(), authenticate: cfg.TLS != nil || cfg.Tokens != nil}
	s.http = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       transport.Limit(cfg.Timeouts.Read),
		WriteTimeout:      transport.Limit(cfg.Timeouts.Write),
		IdleTimeout:       transport.Limit(cfg.Timeouts.Idle),
		MaxHeaderBytes:    cfg.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelError),
		// A request in progress makes its connection busy, so the
		// admission reclaims only idle ones.
		ConnState: admit.ConnState,
	}
	if cfg.TLS != nil {
		// HTTP/2 and HTTP/1.1 by ALPN, as Go's https servers offer them.
		// The handshake is the listener's (Serve): net/http sees *tls.Conn
		// connections with the protocol negotiated and serves HTTP/2 on
		// those that chose "h2".
		s.tls = cfg.TLS.Clone()
		s.tls.NextProtos = []string{"h2", "http/1.1"}
		s.http.Protocols = new(http.Protocols)
		s.http.Protocols.SetHTTP1(true)
		s.http.Protocols.SetHTTP2(true)
	}
	refuse := refuseFull
	if cfg.TLS != nil {
		refuse = nil // the refusal is below TLS: a plain close
	}
	s.admit = cfg.Admission(refuse)
	s.maxTimeout = transport.Limit(cfg.MaxCallTimeout)
	if w := s.http.WriteTimeout; w > 0 && (s.maxTimeout == 0 || w < s.maxTimeout) {
		s.maxTimeout = w
	}
	s.routes()
	if len(cfg.CORSOrigins) > 0 {
		s.http.Handler = withCORS(s.mux, cfg.CORSOrigins)
	}
	s.http.Handler = tracedHandler(s.http.Handler, cfg.Tracer)
	return s
}

// routes registers the API. ServeMux's own 405 for a path whose pattern
// has another method carries Allow but a text/plain body; registering the
// same path without a method as well (less specific, so only the other
// methods reach it) makes the 405 a problem+json like every other error.
func (s *Server) routes() {
	api := func(method, path, allow string, h func(http.ResponseWriter, *http.Request) error) {
		s.mux.Handle(method+" "+path, s.apiHandler(h))
		allowed := []string{allow}
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Allow"] = allowed
			writeProblemStatus(w, http.StatusMethodNotAllowed, bank.InvalidArgument, "method "+r.Method+" is not allowed; allowed: "+allow)
		})
	}
	api("GET", "/v1/accounts/{acc}/balance", "GET, HEAD", s.balance)
	api("GET", "/v1/accounts/{acc}/statements/{month}", "GET, HEAD", s.statement)
	api("POST", "/v1/accounts/{acc}/deposits", "POST", s.deposit)
	s.mux.HandleFunc("GET "+HealthPath, s.health)
	s.mux.HandleFunc(HealthPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Allow"] = hdrGetHead
		writeProblemStatus(w, http.StatusMethodNotAllowed, bank.InvalidArgument, "method "+r.Method+" is not allowed; allowed: GET, HEAD")
	})
	s.mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	s.mux.HandleFunc("/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Allow"] = hdrGetHead
		writeProblemStatus(w, http.StatusMethodNotAllowed, bank.InvalidArgument, "method "+r.Method+" is not allowed; allowed: GET, HEAD")
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, bank.NotFound, "no resource at "+clip(r.URL.Path))
	})
}

// Handler returns the server's http.Handler, for mounting it in another
// server or measuring it with net/http/httptest.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Serve accepts connections on l until Shutdown; then it returns nil.
// The connections are admitted (WithMaxConns, Timeouts.FirstRequest:
// package admit) as they are accepted; with TLS, the handshakes run in a
// tlsconf.Listener above the admission and count toward the limit.
func (s *Server) Serve(l net.Listener) error {
	l = s.admit.Listener(l)
	if s.tls != nil {
		l = tlsconf.Listener(l, s.tls, s.cfg.Handshakes.Logged(s.cfg.Logger))
	}
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// refuseFull answers a connection that the server has no room for, every
// connection having a request in progress: it reads the request's header
// and answers 503 with a problem+json unavailable, then closes (package
// admit bounds it to a second).
func refuseFull(nc net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(io.LimitReader(nc, 16<<10)))
	if err != nil {
		return
	}
	body := appendProblemStatus(nil, http.StatusServiceUnavailable, bank.Unavailable, "server full: every connection has a request in progress")
	resp := &http.Response{
		StatusCode: http.StatusServiceUnavailable, ProtoMajor: 1, ProtoMinor: 1, Request: req,
		Header: http.Header{"Content-Type": hdrProblem, "Retry-After": hdrRetry, "Cache-Control": hdrNoCache,
			"X-Content-Type-Options": hdrNoSniff},
		ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body)), Close: true,
	}
	if resp.Write(nc) != nil {
		return
	}
	// Half-close and drain, so that the client reads the answer rather
	// than a reset for the body it may still be sending.
	if cw, ok := nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		io.Copy(io.Discard, io.LimitReader(nc, 64<<10))
	}
}

// parseTimeout reads a Request-Timeout: one positive decimal integer of at
// most 18 digits, with no sign and no leading zero (openapi.json's
// pattern ^[1-9][0-9]{0,17}$), so that it never overflows.
func parseTimeout(v []string) (int64, bool) {
	if len(v) != 1 || len(v[0]) == 0 || len(v[0]) > 18 || v[0][0] == '0' {
		return 0, false
	}
	var ms int64
	for i := 0; i < len(v[0]); i++ {
		c := v[0][i]
		if c < '0' || c > '9' {
			return 0, false
		}
		ms = ms*10 + int64(c-'0')
	}
	return ms, true
}

// HealthPath is the health resource: GET or HEAD answers 200
// {"status":"SERVING"}, or 503 {"status":"NOT_SERVING"} once Shutdown
// has begun. It needs no credentials, as gRPC's health service.
const HealthPath = "/healthz"

var (
	healthServing    = []byte(`{"status":"SERVING"}` + "\n")
	healthNotServing = []byte(`{"status":"NOT_SERVING"}` + "\n")
)

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoCache
	h["X-Content-Type-Options"] = hdrNoSniff
	body, status := healthServing, http.StatusOK
	if s.shut.Load() {
		body, status = healthNotServing, http.StatusServiceUnavailable
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body) // HEAD: net/http writes no body
}

// Shutdown marks the server NOT_SERVING on /healthz, stops accepting,
// waits for calls in progress until ctx ends, then closes every
// connection. It returns ctx.Err() if calls were cut off.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shut.Store(true)
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	return err
}

// apiHandler adapts an API handler: it puts the caller's principal in the
// request's context (auth.Authenticate: the bearer token of the
// Authorization header, else the verified client certificate; it refuses
// nothing, auth.Authorize around the bank does), applies the caller's
// Request-Timeout, turns a returned error into a problem response, and
// turns a panic into a 500 rather than a dropped connection.
func (s *Server) apiHandler(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.cfg.Logger.Error("panic recovered", logs.Method, r.Method, logs.Path, r.URL.Path, logs.Panic, p, logs.Stack, string(debug.Stack()))
				writeProblem(w, bank.Internal, "internal error")
			}
		}()
		ctx := r.Context()
		if s.authenticate {
			var bearer string
			if a := r.Header["Authorization"]; len(a) > 0 {
				bearer = auth.BearerToken(a[0])
			}
			var certs []*x509.Certificate
			if r.TLS != nil {
				certs = r.TLS.PeerCertificates
			}
			ctx = auth.Authenticate(ctx, s.cfg.Tokens, bearer, certs)
		}
		if v := r.Header[headerTimeout]; len(v) > 0 {
			ms, ok := parseTimeout(v)
			if !ok {
				writeProblem(w, bank.InvalidArgument, headerTimeout+" must be one positive integer number of milliseconds")
				return
			}
			d := s.maxTimeout
			if d == 0 || ms < int64(d/time.Millisecond) {
				d = time.Duration(ms) * time.Millisecond
			}
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// bufPool holds response and request buffers. Buffers that grew large (a
// long statement) are dropped rather than kept.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoCache
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Server) balance(w http.ResponseWriter, r *http.Request) error {
	acc := bank.AccountNo(r.PathValue("acc"))
	m, err := s.bank.Balance(r.Context(), acc)
	if err != nil {
		return err
	}
	bp := getBuf()
	*bp = appendBalance(*bp, acc, m)
	writeBody(w, http.StatusOK, *bp)
	putBuf(bp)
	return nil
}

func (s *Server) statement(w http.ResponseWriter, r *http.Request) error {
	req, err := statementRequest(r)
	if err != nil {
		return err
	}
	st, err := s.bank.Statement(r.Context(), req)
	if err != nil {
		return err
	}
	if st.NextPageToken != "" {
		w.Header()["Link"] = []string{nextLink(r, req, st.NextPageToken)}
	}
	bp := getBuf()
	*bp = appendStatement(*bp, &st)
	writeBody(w, http.StatusOK, *bp)
	putBuf(bp)
	return nil
}

// statementRequest reads a statement request from the path and the query
// parameters page_size and page_token, each at most once.
func statementRequest(r *http.Request) (bank.StatementRequest, error) {
	req := bank.StatementRequest{Account: bank.AccountNo(r.PathValue("acc")), Month: bank.Month(r.PathValue("month"))}
	if r.URL.RawQuery == "" {
		return req, nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return req, bank.Errorf(bank.InvalidArgument, "query string is malformed")
	}
	if v, ok := q["page_size"]; ok {
		if len(v) != 1 {
			return req, bank.Errorf(bank.InvalidArgument, "more than one page_size")
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		switch {
		case err == nil:
			req.PageSize = int(max(min(n, bank.MaxPageSize+1), -1))
		case errors.Is(err, strconv.ErrRange) && v[0][0] != '-':
			req.PageSize = bank.MaxPageSize // served as the maximum, as any size above it
		default:
			return req, bank.Errorf(bank.InvalidArgument, "page_size %q is not an integer", clip(v[0]))
		}
	}
	if v, ok := q["page_token"]; ok {
		if len(v) != 1 {
			return req, bank.Errorf(bank.InvalidArgument, "more than one page_token")
		}
		req.PageToken = v[0]
	}
	return req, nil
}

// nextLink is the Link header (RFC 8288) of the page after this one: this
// resource's path with the same page_size and the next page's token.
func nextLink(r *http.Request, req bank.StatementRequest, token string) string {
	q := url.Values{"page_token": {token}}
	if req.PageSize != 0 {
		q.Set("page_size", strconv.Itoa(min(req.PageSize, bank.MaxPageSize)))
	}
	return "<" + r.URL.EscapedPath() + "?" + q.Encode() + `>; rel="next"`
}

func (s *Server) deposit(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && mediaType(ct) != contentJSON {
		return bank.Errorf(bank.InvalidArgument, "Content-Type must be %s", contentJSON)
	}
	keys := r.Header[headerKey]
	if len(keys) > 1 {
		return bank.Errorf(bank.InvalidArgument, "more than one %s header", headerKey)
	}
	bp := getBuf()
	defer putBuf(bp)
	body, err := readBody(w, r, s.cfg.maxBody, *bp)
	*bp = body[:0]
	if err != nil {
		return err
	}
	amount, err := decodeDeposit(body)
	if err != nil {
		return err
	}
	req := bank.DepositRequest{Account: bank.AccountNo(r.PathValue("acc")), Amount: amount}
	if len(keys) == 1 {
		if req.IdempotencyKey, err = parseKey(keys[0]); err != nil {
			return err
		}
	}
	if req.IdempotencyKey == "" {
		// Checked here too, so that a Bank that forgets cannot apply a
		// deposit without a key.
		return bank.Errorf(bank.InvalidArgument, "the %s header is required", headerKey)
	}
	rc, err := s.bank.Deposit(r.Context(), req)
	if err != nil {
		return err
	}
	loc := make([]byte, 0, 64)
	loc = append(loc, "/v1/accounts/"...)
	loc = append(loc, req.Account...)
	loc = append(loc, "/transactions/"...)
	loc = strconv.AppendInt(loc, rc.TransactionID, 10)
	h := w.Header()
	h["Location"] = []string{string(loc)}
	if rc.Replayed {
		h[headerReplayed] = hdrTrue
	}
	*bp = appendReceipt((*bp)[:0], req.Account, req.Amount, rc)
	writeBody(w, http.StatusCreated, *bp)
	return nil
}

// readBody reads the whole request body into buf, refusing more than max
// bytes (http.MaxBytesReader also stops the connection from being reused
// by a client that keeps sending). buf grows as bytes arrive, never from
// the Content-Length a client declares (only checked against max). A body
// that does not arrive within the server's read timeout is 408, code
// deadline_exceeded.
func readBody(w http.ResponseWriter, r *http.Request, max int64, buf []byte) ([]byte, error) {
	errTooBig := bank.Errorf(bank.InvalidArgument, "request body is larger than %d bytes", max)
	if r.ContentLength > max {
		return buf, errTooBig
	}
	buf, err := readAll(http.MaxBytesReader(w, r.Body, max), 0, max, buf)
	var (
		mbe *http.MaxBytesError
		ne  net.Error
	)
	switch {
	case err == nil:
		return buf, nil
	case errors.Is(err, errTooLarge) || errors.As(err, &mbe):
		return buf, errTooBig
	case errors.As(err, &ne) && ne.Timeout():
		// Before FromContext: the failed read has canceled the request's
		// context too, which would read as the client's cancellation.
		return buf, statusError{http.StatusRequestTimeout, bank.Errorf(bank.DeadlineExceeded, "request body not received within the read timeout")}
	}
	return buf, bank.FromContext(r.Context(), err)
}

// statusError is a bank error answered with an HTTP status other than its
// code's (408 for a request body that timed out, where 504 would blame an
// upstream).
type statusError struct {
	status int
	error
}

func (e statusError) Unwrap() error { return e.error }

// writeError writes err as a problem+json response with the status of its
// bank code (or of a statusError) and the detail bank.Detail(err).
func writeError(w http.ResponseWriter, err error) {
	if se, ok := err.(statusError); ok {
		writeProblemStatus(w, se.status, bank.CodeOf(se.error), bank.Detail(se.error))
		return
	}
	c := bank.CodeOf(err)
	if hint, ok := bank.RetryAfter(err); ok {
		status := statusOf(c)
		w.Header()["Retry-After"] = []string{retryAfterSeconds(hint)}
		bp := getBuf()
		*bp = appendProblemHint(*bp, status, c, bank.Detail(err), hint)
		writeProblemBody(w, status, c, *bp)
		putBuf(bp)
		return
	}
	writeProblem(w, c, bank.Detail(err))
}

func writeProblem(w http.ResponseWriter, c bank.Code, detail string) {
	writeProblemStatus(w, statusOf(c), c, detail)
}

func writeProblemStatus(w http.ResponseWriter, status int, c bank.Code, detail string) {
	bp := getBuf()
	*bp = appendProblemStatus(*bp, status, c, detail)
	writeProblemBody(w, status, c, *bp)
	putBuf(bp)
}

// writeProblemBody writes the problem+json body with its headers: a
// Retry-After of 1 second for a retryable error unless the handler set
// one from the error's own hint.
func writeProblemBody(w http.ResponseWriter, status int, c bank.Code, body []byte) {
	h := w.Header()
	h["Content-Type"] = hdrProblem
	h["X-Content-Type-Options"] = hdrNoSniff
	h["Cache-Control"] = hdrNoCache
	switch c {
	case bank.Unavailable, bank.InFlight:
		if _, set := h["Retry-After"]; !set {
			h["Retry-After"] = hdrRetry
		}
	case bank.Unauthenticated:
		h["Www-Authenticate"] = hdrBearer
	}
	w.WriteHeader(status)
	w.Write(body)
}
