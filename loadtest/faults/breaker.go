package faults

import (
	"fmt"
	"sort"
)

// BreakerFigures sum up what the circuit breaker did in one cell, from its
// transitions and the timeline of the calls.
type BreakerFigures struct {
	OpenedMs float64 `json:"opened_ms"`           // first transition to open, since the run started
	ClosedMs float64 `json:"closed_ms,omitempty"` // last transition to closed after it (0: never closed again)
	Opens    int     `json:"opens"`               // transitions to open (the first and the reopenings)
	// HalfOpenProbes counts the half-open spells that ended, each with the
	// outcome of its probe (closed: it succeeded; open: it failed).
	HalfOpenProbes int `json:"half_open_probes"`
	// FailedFast counts the calls that the breaker failed at once, and
	// FailFastP50Ms is the median of their latencies.
	FailedFast    int     `json:"failed_fast"`
	FailFastP50Ms float64 `json:"fail_fast_p50_ms"`
	// MaxAttemptsInFault is the most attempts any call that started during
	// the fault made (the mean is Result.AttemptsPerCallInFault).
	MaxAttemptsInFault int `json:"max_attempts_in_fault"`
}

// breakerFigures computes r's BreakerFigures; ok is false when the
// breaker never opened.
func breakerFigures(r Result) (f BreakerFigures, ok bool) {
	for _, t := range r.Transitions {
		switch {
		case t.To == "open":
			if f.Opens == 0 {
				f.OpenedMs = t.AtMs
			}
			f.Opens++
		case t.To == "closed" && f.Opens > 0:
			f.ClosedMs = t.AtMs
		}
		if t.From == "half-open" {
			f.HalfOpenProbes++
		}
	}
	var ff []float64
	for _, c := range r.Timeline {
		if c.FailedFast {
			ff = append(ff, c.LatencyMs)
		}
		if c.InFault {
			f.MaxAttemptsInFault = max(f.MaxAttemptsInFault, c.Attempts)
		}
	}
	sort.Float64s(ff)
	f.FailedFast = len(ff)
	if len(ff) > 0 {
		f.FailFastP50Ms = ff[(len(ff)-1)/2]
	}
	return f, f.Opens > 0
}

// breakerLine is the sentence the terminal prints under the table for a
// cell whose breaker opened.
func breakerLine(r Result) (string, bool) {
	f, ok := breakerFigures(r)
	if !ok {
		return "", false
	}
	closed := "did not close again"
	if f.ClosedMs > 0 {
		closed = fmt.Sprintf("closed at %.0f ms", f.ClosedMs)
	}
	times := "once"
	if f.Opens > 1 {
		times = fmt.Sprintf("%d times in all", f.Opens)
	}
	s := fmt.Sprintf("%s/%s: breaker opened at %.0f ms (%s), %s; %d half-open probes; %d calls failed fast, median %.3f ms",
		r.Scenario, r.Transport, f.OpenedMs, times, closed, f.HalfOpenProbes, f.FailedFast, f.FailFastP50Ms)
	if r.FaultCalls > 0 && r.AttemptsPerCallInFault > 0 {
		s += fmt.Sprintf("; %.2f attempts per call in the fault (at most %d), %.2f over the run", r.AttemptsPerCallInFault, f.MaxAttemptsInFault, r.AttemptsPerCall)
	}
	return s, true
}
