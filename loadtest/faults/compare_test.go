package faults

import (
	"strings"
	"testing"

	"github.com/igbank/igbank/common/audit"
	"golang.org/x/net/html"
)

// TestComparison sets a run with keys beside one without: the table and
// the page show each cell's outcome in both, and the figures as A|B.
func TestComparison(t *testing.T) {
	on := []Result{
		{Scenario: "lost-response", Transport: "raw", Pass: true, Audit: audit.Result{OK: true, Attempted: 40, Acknowledged: 40, Applied: 40, Replayed: 6}, AttemptsPerCall: 1.2},
		{Scenario: "outage", Transport: "raw", Pass: true, Audit: audit.Result{OK: true, Attempted: 40, Acknowledged: 30, Applied: 30},
			ElapsedMs: 600, FaultWindows: [][2]float64{{150, 330}}, Timeline: []CallRecord{{StartMs: 10, LatencyMs: 1, Code: "ok", Attempts: 1}}},
	}
	off := []Result{
		{Scenario: "lost-response", Transport: "raw", IgnoreKeys: true, NoBudget: true, NoBreaker: true, Audit: audit.Result{Attempted: 40, Acknowledged: 40, Applied: 47, Duplicated: 7}, AttemptsPerCall: 1.3},
		{Scenario: "refused", Transport: "raw", IgnoreKeys: true, NoBudget: true, NoBreaker: true, Error: "boom"},
	}
	var b strings.Builder
	if err := WriteComparison(&b, on, off, "on.json", "off.json"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Log("\n" + out)
	for _, want := range []string{
		"A: on.json (idempotency keys on, retry budget on, breaker on)",
		"B: off.json (idempotency keys off, retry budget off, breaker off)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("comparison lacks %q", want)
		}
	}
	lines := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 {
			lines[f[0]] = f
		}
	}
	lost := strings.Join(lines["lost-response"], " ")
	for _, want := range []string{"raw ok FAIL lost 0 dup 7", "40|47", "0|7", "6|0", "1.20|1.30"} {
		if !strings.Contains(lost, want) {
			t.Errorf("lost-response row %q lacks %q", lost, want)
		}
	}
	if outage := strings.Join(lines["outage"], " "); !strings.Contains(outage, "raw ok - 30|-") {
		t.Errorf("outage row (only in A): %q", outage)
	}
	if refused := strings.Join(lines["refused"], " "); !strings.Contains(refused, "raw - error -|-") {
		t.Errorf("refused row (an error in B): %q", refused)
	}

	b.Reset()
	if err := WriteComparisonHTML(&b, on, off, "on.json", "off.json"); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	if _, err := html.Parse(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<div class="pair">`, "<h3>A: on.json</h3>", "<h3>B: off.json</h3>", `<td class="ok"`, `<td class="fail"`,
		"FAIL lost 0 dup 7", `id="outage"`, "<svg", "No timeline of this cell."} {
		if !strings.Contains(doc, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(doc, "<table><tr><th class=\"l\">scenario</th><th>raw</th>"); n != 2 {
		t.Errorf("%d matrices, want 2", n)
	}
}
