package restbank

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/igbank/igbank/common/bank"
)

// The problem's detail is bank.Detail for every code (the cause included,
// not only for invalid_argument, but never the cause of the server's own
// failures), so the client's error reads as the server's.
func TestProblemDetailIsDetail(t *testing.T) {
	cause := errors.New("connection refused")
	for _, c := range bank.Codes() {
		for _, err := range []*bank.Error{
			{Code: c, Message: "store down"},
			{Code: c, Err: cause},
			{Code: c, Message: "store down", Err: cause},
		} {
			w := httptest.NewRecorder()
			writeError(w, err)
			got := decodeProblem(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes())
			want := bank.FromCode(c, bank.Detail(err)).Error()
			if bank.CodeOf(got) != c || got.Error() != want {
				t.Errorf("%q came back as %q; body %s", err, got, w.Body)
			}
		}
	}
	w := httptest.NewRecorder()
	writeError(w, errors.New("boom"))
	if got := decodeProblem(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes()); got.Error() != "internal" {
		t.Errorf("a plain error came back as %q; body %s", got, w.Body)
	}
}
