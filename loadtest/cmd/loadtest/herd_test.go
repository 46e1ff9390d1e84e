package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHerdMain(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := command([]string{"herd", "-clients", "20", "-outage", "100ms", "-jitter", "none,equal", "-html", filepath.Join(dir, "h.html"), "-json", filepath.Join(dir, "h.json")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "equal") {
		t.Errorf("summary lacks the equal run:\n%s", out.String())
	}
	for _, f := range []string{"h.html", "h.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if code := command([]string{"herd", "-jitter", "sideways"}, &out, &errb); code != 2 {
		t.Errorf("bad -jitter: exit %d, want 2", code)
	}
}
