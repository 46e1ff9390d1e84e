package restbank

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/igbank/igbank/common/bank"
)

// The wire format. Responses are appended to a byte slice field by field
// (strings go through jsontext.AppendQuote, so escaping is the library's):
// no reflection and no allocation on the server's hot path. Requests and,
// on the client, responses are decoded with github.com/go-json-experiment/json
// (the encoding/json/v2 prototype), which is strict by default: member names
// are case-sensitive, duplicate names are rejected, an int64 accepts only a
// JSON integer, and trailing data is an error. BenchmarkDecodeDeposit
// compares it with encoding/json.

const (
	contentJSON    = "application/json"
	contentProblem = "application/problem+json"

	// headerKey carries the deposit's idempotency key, as in the IETF
	// Idempotency-Key draft and Stripe's API. The value is taken verbatim.
	headerKey = "Idempotency-Key"
	// headerReplayed is set to "true" on the stored response of a replay.
	headerReplayed = "Idempotent-Replayed"
	// headerTimeout carries the caller's remaining time budget, in whole
	// milliseconds; the server runs the call under that deadline.
	headerTimeout = "Request-Timeout"
)

// Shared header values. net/http never modifies a header value slice, so
// the handlers assign these instead of allocating one per response.
var (
	hdrJSON    = []string{contentJSON}
	hdrProblem = []string{contentProblem}
	hdrTrue    = []string{"true"}
	hdrNoSniff = []string{"nosniff"}
	hdrRetry   = []string{"1"}
	hdrBearer  = []string{`Bearer realm="igbank"`}
	hdrGetHead = []string{"GET, HEAD"}
	hdrNoCache = []string{"no-store"}
)

// strict is the decoding of request bodies: no unknown members.
var strict = json.RejectUnknownMembers(true)

// depositBody is the body of POST /v1/accounts/{acc}/deposits. Amount is a
// pointer so that a missing or null amount is told apart from zero.
type depositBody struct {
	Amount *jsonInt `json:"amount"`
}

// jsonInt is an int64 read by the workspace's JSON rule, the same as
// Connect's JSON (docs/architecture.md, "JSON bodies"): a JSON integer (no
// fraction, no exponent) or a string holding exactly one, which is how
// proto3 JSON and JavaScript clients write a 64-bit integer.
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	lit := b
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		lit = b[1 : len(b)-1] // an integer has nothing to escape
	}
	if !isJSONInteger(lit) {
		return fmt.Errorf("%s is not an integer (a JSON integer or a string of one, no fraction or exponent)", b)
	}
	v, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil {
		return fmt.Errorf("%s is out of range", b)
	}
	*n = jsonInt(v)
	return nil
}

// isJSONInteger reports whether b is -?(0|[1-9][0-9]*): JSON's grammar
// for an integer.
func isJSONInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// decodeDeposit parses a deposit request body strictly: exactly one JSON
// object with exactly the member "amount" holding an integer (jsonInt).
func decodeDeposit(body []byte) (bank.Money, error) {
	var d depositBody
	if err := json.Unmarshal(body, &d, strict); err != nil {
		return 0, &bank.Error{Code: bank.InvalidArgument, Message: "malformed deposit body", Err: err}
	}
	if d.Amount == nil {
		return 0, bank.Errorf(bank.InvalidArgument, `deposit body has no integer member "amount"`)
	}
	return bank.Money(*d.Amount), nil
}

func appendDeposit(b []byte, amount bank.Money) []byte {
	b = append(b, `{"amount":`...)
	b = strconv.AppendInt(b, int64(amount), 10)
	return append(b, '}')
}

// appendString appends s as a JSON string. Invalid UTF-8 is replaced
// rather than refused: these are our own responses.
func appendString(b []byte, s string) []byte {
	out, err := jsontext.AppendQuote(b, s)
	if err != nil {
		out, _ = jsontext.AppendQuote(b, strings.ToValidUTF8(s, "\uFFFD"))
	}
	return out
}

func appendBalance(b []byte, acc bank.AccountNo, m bank.Money) []byte {
	b = append(b, `{"account":`...)
	b = appendString(b, string(acc))
	b = append(b, `,"balance":`...)
	b = strconv.AppendInt(b, int64(m), 10)
	return append(b, '}')
}

// appendReceipt writes the body of a deposit's 201 response. It holds only
// what a replay reproduces exactly (the request's account and amount and the
// stored receipt), so that a replay's body is byte for byte the first one;
// whether it is a replay travels in the Idempotent-Replayed header.
func appendReceipt(b []byte, acc bank.AccountNo, amount bank.Money, r bank.DepositReceipt) []byte {
	b = append(b, `{"transaction_id":`...)
	b = strconv.AppendInt(b, r.TransactionID, 10)
	b = append(b, `,"account":`...)
	b = appendString(b, string(acc))
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, int64(amount), 10)
	b = append(b, `,"balance":`...)
	b = strconv.AppendInt(b, int64(r.Balance), 10)
	return append(b, '}')
}

func appendStatement(b []byte, st *bank.Statement) []byte {
	b = append(b, `{"account":`...)
	b = appendString(b, string(st.Account))
	b = append(b, `,"month":`...)
	b = appendString(b, string(st.Month))
	b = append(b, `,"opening":`...)
	b = strconv.AppendInt(b, int64(st.Opening), 10)
	b = append(b, `,"closing":`...)
	b = strconv.AppendInt(b, int64(st.Closing), 10)
	b = append(b, `,"transactions":[`...)
	for i := range st.Transactions {
		tx := &st.Transactions[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, tx.ID, 10)
		b = append(b, `,"time":"`...)
		b = tx.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","amount":`...)
		b = strconv.AppendInt(b, int64(tx.Amount), 10)
		b = append(b, `,"balance_after":`...)
		b = strconv.AppendInt(b, int64(tx.BalanceAfter), 10)
		b = append(b, `,"idempotency_key":`...)
		b = appendString(b, tx.IdempotencyKey)
		b = append(b, '}')
	}
	b = append(b, ']')
	if st.NextPageToken != "" {
		b = append(b, `,"next_page_token":`...)
		b = appendString(b, st.NextPageToken)
	}
	return append(b, '}')
}

// The client's view of the responses. Unknown members are ignored, so a
// newer server may add fields.
type balanceJSON struct {
	Balance int64 `json:"balance"` // "account" is skipped: it is the one asked for
}

type receiptJSON struct {
	TransactionID int64 `json:"transaction_id"`
	Balance       int64 `json:"balance"` // "account" and "amount" are the request's
}

type transactionJSON struct {
	ID             int64     `json:"id"`
	Time           time.Time `json:"time"`
	Amount         int64     `json:"amount"`
	BalanceAfter   int64     `json:"balance_after"`
	IdempotencyKey string    `json:"idempotency_key"`
}

type statementJSON struct {
	Account      string            `json:"account"`
	Month        string            `json:"month"`
	Opening      int64             `json:"opening"`
	Closing      int64             `json:"closing"`
	Transactions []transactionJSON `json:"transactions"`
	// NextPageToken is absent on the last page.
	NextPageToken string `json:"next_page_token"`
}

// problemJSON is an RFC 9457 problem detail with the extension member
// "code": the bank error code's wire name, such as "not_found".
type problemJSON struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	// RetryAfterMs, the extension member "retry_after_ms", is the
	// server's retry-after hint (bank.RetryAfter) to the millisecond,
	// where the Retry-After header has whole seconds only. It is there
	// only when the error carries a hint (an overloaded server's refusal).
	RetryAfterMs *int64 `json:"retry_after_ms"`
}

// problemTypePrefix is followed by the code to make a problem's type URI.
const problemTypePrefix = "urn:igbank:problem:"

// statuses is the table of the HTTP status of each bank code.
var statuses = [...]int{
	bank.OK:                  http.StatusOK,
	bank.NotFound:            http.StatusNotFound,
	bank.InvalidArgument:     http.StatusBadRequest,
	bank.IdempotencyKeyReuse: http.StatusUnprocessableEntity,
	bank.InFlight:            http.StatusConflict,
	bank.Unavailable:         http.StatusServiceUnavailable,
	bank.DeadlineExceeded:    http.StatusGatewayTimeout,
	bank.Unauthenticated:     http.StatusUnauthorized,
	bank.PermissionDenied:    http.StatusForbidden,
	bank.Internal:            http.StatusInternalServerError,
	bank.Canceled:            statusClientClosed,
}

// statusCodes is the inverse of statuses, with the other statuses a proxy
// or another server may answer: the client errors of a malformed request
// are invalid arguments, 429 and 502 are unavailable (a retry later may
// succeed), 408 is a deadline. The rest are internal.
var statusCodes = func() map[int]bank.Code {
	m := map[int]bank.Code{
		http.StatusRequestEntityTooLarge:       bank.InvalidArgument,
		http.StatusUnsupportedMediaType:        bank.InvalidArgument,
		http.StatusRequestURITooLong:           bank.InvalidArgument,
		http.StatusRequestHeaderFieldsTooLarge: bank.InvalidArgument,
		http.StatusTooManyRequests:             bank.Unavailable,
		http.StatusBadGateway:                  bank.Unavailable,
		http.StatusRequestTimeout:              bank.DeadlineExceeded,
	}
	for c, st := range statuses {
		m[st] = bank.Code(c)
	}
	return m
}()

// statusOf is the HTTP status of each bank code.
func statusOf(c bank.Code) int {
	if int(c) < len(statuses) {
		return statuses[c]
	}
	return http.StatusInternalServerError
}

// statusClientClosed is nginx's 499 "client closed request": the status of
// a call whose caller went away. Nobody reads it, but logs do.
const statusClientClosed = 499

// codeOfStatus classifies a response that carries no usable problem body
// (a proxy's error page, say) by its status alone.
func codeOfStatus(status int) bank.Code {
	if c, ok := statusCodes[status]; ok && c != bank.OK {
		return c
	}
	return bank.Internal
}

// appendProblem writes an RFC 9457 problem detail for code c and status.
func appendProblemStatus(b []byte, status int, c bank.Code, detail string) []byte {
	return appendProblemHint(b, status, c, detail, 0)
}

// appendProblemHint is appendProblemStatus with the member retry_after_ms
// for a retry-after hint above 0.
func appendProblemHint(b []byte, status int, c bank.Code, detail string, hint time.Duration) []byte {
	b = append(b, `{"type":"`+problemTypePrefix...)
	b = append(b, c.String()...)
	b = append(b, `","title":`...)
	b = appendString(b, http.StatusText(status))
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"detail":`...)
	b = appendString(b, detail)
	b = append(b, `,"code":"`...)
	b = append(b, c.String()...)
	b = append(b, '"')
	if hint > 0 {
		b = append(b, `,"retry_after_ms":`...)
		b = strconv.AppendInt(b, max(hint.Milliseconds(), 1), 10)
	}
	return append(b, '}')
}

// retryAfterSeconds is the Retry-After header value of a hint: whole
// seconds (RFC 9110, delay-seconds), a fraction rounded up, so that a
// client that honours it never comes back too early.
func retryAfterSeconds(hint time.Duration) string {
	return strconv.FormatInt(int64((hint+time.Second-1)/time.Second), 10)
}

// parseRetryAfter reads a Retry-After header value (RFC 9110, section
// 10.2.3): delay-seconds, or an HTTP-date taken relative to now. It
// reports false for a value that is neither, and for a date in the past.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0, false
	}
	return t.Sub(now), true
}

// decodeProblem turns an error response into the typed bank error it
// carries: the "code" member of a problem+json body when there is one,
// else a classification by status. An unknown code becomes Internal (as
// bank.FromCode does for numeric codes), keeping the server's words.
func decodeProblem(status int, contentType string, body []byte) error {
	var p problemJSON
	if mediaType(contentType) == contentProblem && json.Unmarshal(body, &p) == nil && p.Code != "" {
		c, ok := bank.ParseCode(p.Code)
		switch {
		case !ok:
			return &bank.Error{Code: bank.Internal, Message: "unknown error code " + strconv.Quote(clip(p.Code)) + ": " + clip(p.Detail)}
		case c == bank.OK:
			return &bank.Error{Code: bank.Internal, Message: "error response " + strconv.Itoa(status) + " with code ok: " + clip(p.Detail)}
		}
		err := bank.FromCode(c, p.Detail)
		if p.RetryAfterMs != nil {
			err = bank.WithRetryAfter(err, time.Duration(min(max(*p.RetryAfterMs, 0), int64(bank.MaxRetryAfter/time.Millisecond)))*time.Millisecond)
		}
		return err
	}
	return &bank.Error{Code: codeOfStatus(status), Message: "HTTP " + strconv.Itoa(status) + ": " + clip(string(body))}
}

// mediaType returns the media type of a Content-Type value without its
// parameters, lower-cased only when it has to be.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(ct)
		}
	}
	return ct
}

// clip bounds what a hostile or broken server can put into an error.
func clip(s string) string {
	const max = 256
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
