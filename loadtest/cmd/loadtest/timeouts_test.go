package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/faults"
)

// "loadtest timeouts" in short form prints a row per timeout, and writes
// its JSON and its page; bad flags exit 2.
func TestTimeoutsCommand(t *testing.T) {
	dir := t.TempDir()
	js, page := filepath.Join(dir, "t.json"), filepath.Join(dir, "t.html")
	var out, errb bytes.Buffer
	code := command([]string{"timeouts", "-timeouts", "15ms,200ms", "-deposits", "40", "-duration", "600ms", "-json", js, "-html", page}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"attempt timeout", "15 ms", "200 ms", "outage detected after"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep faults.TimeoutReport
	if err := json.Unmarshal(b, &rep); err != nil || rep.Kind != faults.TimeoutKind || len(rep.Points) != 2 {
		t.Errorf("JSON: %v, %+v", err, rep)
	}
	h, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(h), "<svg") || !strings.Contains(string(h), "Time to declare a silent outage") {
		t.Errorf("page: %v", err)
	}
	for _, bad := range [][]string{{"-timeouts", "fast"}, {"-transport", "carrier-pigeon"}, {"-jitter", "20ms"}} {
		if code := command(append([]string{"timeouts"}, bad...), &out, &errb); code != 2 {
			t.Errorf("timeouts %q: exit %d, want 2", bad, code)
		}
	}
}
