// Package cputime adds the process's CPU time per operation to a
// benchmark's figures. On a shared, noisy machine wall-clock ns/op swings
// with other people's load; the CPU time the benchmark process itself used
// (all its threads: the code measured, the garbage collector, and for a
// transport benchmark both client and server) is much steadier.
package cputime

import "testing"

// Start notes the process's CPU time; the returned stop, called when the
// benchmark loop is done, reports "cpu-ns/op" over b.N operations. Where
// the CPU time cannot be read, it reports nothing.
func Start(b *testing.B) (stop func()) {
	start, ok := processCPU()
	return func() {
		end, ok2 := processCPU()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
