package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igbank/igbank/loadtest/faults"
	"golang.org/x/net/html"
)

func TestFaultsCommand(t *testing.T) {
	var out, errs strings.Builder
	if code := command([]string{"faults", "-h"}, &out, &errs); code != 0 {
		t.Fatalf("faults -h: exit %d", code)
	}
	for _, s := range faults.Scenarios {
		if !strings.Contains(errs.String(), "\n  "+s.Name+"\n") {
			t.Errorf("faults -h does not explain %s", s.Name)
		}
	}
	if code := command([]string{"faults", "-scenario", "nosuch"}, &out, &errs); code != 2 {
		t.Errorf("unknown scenario: exit %d, want 2", code)
	}
	path := filepath.Join(t.TempDir(), "m.json")
	out.Reset()
	code := command([]string{"faults", "-scenario", "refused", "-transports", "raw", "-deposits", "10", "-duration", "200ms", "-json", path}, &out, &errs)
	if code != 0 {
		t.Fatalf("faults refused over raw: exit %d\n%s", code, out.String())
	}
	var got []faults.Result
	b, err := os.ReadFile(path)
	if err == nil {
		got, err = faults.Decode(b)
	}
	if err != nil || len(got) != 1 || !got[0].Pass || got[0].Audit.Attempted != 10 {
		t.Fatalf("JSON matrix: %v %+v", err, got)
	}
	if !strings.Contains(out.String(), "refused") || !strings.Contains(out.String(), "ok") {
		t.Errorf("matrix table:\n%s", out.String())
	}
}

func TestFaultsHTML(t *testing.T) {
	dir := t.TempDir()
	page, js := filepath.Join(dir, "f.html"), filepath.Join(dir, "f.json")
	var out, errs strings.Builder
	code := command([]string{"faults", "-scenario", "outage", "-transports", "raw", "-deposits", "40", "-workers", "4", "-accounts", "4",
		"-duration", "600ms", "-attempt-timeout", "150ms", "-call-timeout", "3s", "-html", page, "-json", js}, &out, &errs)
	if code != 0 {
		t.Fatalf("faults outage over raw: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	t.Log(out.String())
	for _, want := range []string{"attempts/call in fault", "outage/raw: breaker opened at"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("terminal output lacks %q", want)
		}
	}

	var got []faults.Result
	b, err := os.ReadFile(js)
	if err == nil {
		got, err = faults.Decode(b)
	}
	if err != nil || len(got) != 1 {
		t.Fatalf("JSON matrix: %v, %d cells", err, len(got))
	}
	r := got[0]
	if len(r.Timeline) != r.Audit.Attempted || r.Audit.Attempted != 40 {
		t.Errorf("timeline of %d calls, %d deposits attempted, want 40 of each", len(r.Timeline), r.Audit.Attempted)
	}
	sum := 0
	for _, c := range r.Timeline {
		if c.Attempts < 1 {
			t.Errorf("call %+v made no attempt", c)
		}
		sum += c.Attempts
	}
	if int64(sum) != r.Attempts {
		t.Errorf("the timeline counts %d attempts, the retry layer %d", sum, r.Attempts)
	}
	if r.AttemptsPerCall <= 0 || r.AttemptsPerCallInFault <= 0 || r.FaultCalls == 0 || len(r.FaultWindows) != 1 {
		t.Errorf("attempts per call %v, in fault %v, fault calls %d, windows %v", r.AttemptsPerCall, r.AttemptsPerCallInFault, r.FaultCalls, r.FaultWindows)
	}
	if r.Breaker == nil || r.Breaker.Opens == 0 {
		t.Fatalf("the breaker never opened: %+v", r.Transitions)
	}

	hb, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(hb)
	if _, err := html.Parse(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="matrix"`, `<td class="ok"`, "attempts/call in fault", `id="outage"`, "<svg", "closed → open",
		"breaker opened at", "half-open probes", "fail-fast latency", "attempts per call during the outage"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(doc, "<script") || strings.Contains(doc, " src=") || strings.Contains(doc, " href=") {
		t.Error("the page is not self-contained")
	}

	again := filepath.Join(dir, "again.html")
	out.Reset()
	if code := command([]string{"report", "-html", again, js}, &out, &errs); code != 0 {
		t.Fatalf("loadtest report of the fault JSON: exit %d: %s", code, errs.String())
	}
	if b, err := os.ReadFile(again); err != nil || string(b) != doc {
		t.Errorf("report renders another page from the JSON (%v)", err)
	}
	if !strings.Contains(out.String(), "exactly-once") {
		t.Errorf("report table:\n%s", out.String())
	}
	if f, err := readSaved(filepath.Join("testdata", "nosuch.json")); f.kind != "" || err == nil {
		t.Errorf("readSaved of a missing file: kind %q, err %v", f.kind, err)
	}
}

// -delivery runs the cells under each guarantee it names, in the order
// at-most-once, at-least-once, exactly-once.
func TestDeliveries(t *testing.T) {
	base := faults.DefaultConfig()
	cs, err := deliveries(base, "all")
	if err != nil || len(cs) != 3 || !cs[0].NoRetry || cs[0].IgnoreKeys || cs[1].NoRetry || !cs[1].IgnoreKeys || cs[2].NoRetry || cs[2].IgnoreKeys {
		t.Fatalf("deliveries(all) = %+v, %v", cs, err)
	}
	if cs, err := deliveries(base, "exactly-once,at-most-once"); err != nil || len(cs) != 2 || !cs[0].NoRetry {
		t.Errorf("deliveries(exactly-once,at-most-once) = %+v, %v", cs, err)
	}
	for _, bad := range []string{"twice", ","} {
		if _, err := deliveries(base, bad); err == nil {
			t.Errorf("deliveries(%q): no error", bad)
		}
	}
	var stderr strings.Builder
	if code := faultsMain([]string{"-delivery", "sometimes"}, io.Discard, &stderr); code != 2 {
		t.Errorf("-delivery sometimes: exit %d, want 2 (%s)", code, stderr.String())
	}
}
