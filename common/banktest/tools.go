package banktest

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// HTTPRequest sends method to url with the headers h and body over a real
// socket, as a browser or curl would, and returns the response with its
// body read and closed: for the tests of what the HTTP servers (REST,
// Connect) answer in their headers, such as CORS preflights.
func HTTPRequest(t testing.TB, method, url string, h map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Grpcurl returns a function that runs grpcurl with its arguments, within
// 20 s, and returns what it printed, failing t if it fails; it skips t
// when grpcurl is not on PATH (CI installs it: .ci/run).
func Grpcurl(t testing.TB) func(args ...string) string {
	t.Helper()
	grpcurl, err := exec.LookPath("grpcurl")
	if err != nil {
		t.Skip("grpcurl is not on PATH; install it with: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4")
	}
	return func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, grpcurl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("grpcurl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}
