package faults

import (
	"strings"
	"testing"
)

// TestFaultRowNoFault: a cell with no call in a fault window (a crash
// cell) shows "-" for the figures in fault, not zeros.
func TestFaultRowNoFault(t *testing.T) {
	row := cellRow(Result{Scenario: "crash-before-apply", Transport: "raw", P99Ms: 12})
	if len(row) != len(columns) {
		t.Fatalf("%d cells for %d columns", len(row), len(columns))
	}
	for i, c := range columns {
		if strings.HasSuffix(c, "in fault") && row[i] != "-" {
			t.Errorf("%s: %q, want -", c, row[i])
		}
	}
}

// Every scenario's cells get a timeline, coloured by outcome, with the
// duplicated deposits marked.
func TestTimelinePerScenario(t *testing.T) {
	r := Result{Scenario: "lost-response", Transport: "raw", IgnoreKeys: true, Pass: true, Verdict: "duplicates found, as expected with keys off",
		ElapsedMs: 100, FaultWindows: [][2]float64{{20, 30}}, Timeline: []CallRecord{
			{StartMs: 10, LatencyMs: 1, Code: "ok", Attempts: 1, Applied: 1},
			{StartMs: 21, LatencyMs: 40, Code: "ok", Attempts: 2, Applied: 2, InFault: true},
			{StartMs: 25, LatencyMs: 80, Code: "unavailable", Attempts: 8, Applied: 1, InFault: true},
			{StartMs: 50, LatencyMs: 2, Code: "not_found", Attempts: 1},
		}}
	var b strings.Builder
	if err := WriteHTML(&b, []Result{r}); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, want := range []string{`id="timelines"`, "<summary>lost-response</summary>", "raw (at-least-once): duplicates found, as expected with keys off",
		"acknowledged", "outcome unknown", "failed (definite)", "applied twice or more", "<svg"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if got := []int{outcomeSeries(r.Timeline[0]), outcomeSeries(r.Timeline[2]), outcomeSeries(r.Timeline[3])}; got[0] != 0 || got[1] != 1 || got[2] != 3 {
		t.Errorf("outcome series %v, want acknowledged 0, unknown 1, failed 3", got)
	}
}
