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
