// Package report renders what the engine (package bench) measured: the
// side-by-side table for the terminal (WriteTable), the saved run as JSON
// (WriteJSON, Read, Decode, which also reads the format before saved files
// had a kind), one row per transport and load point as CSV (WriteCSV),
// every round in Go's benchmark format for benchstat (WriteBench), and a
// self-contained HTML page with the table and charts (WriteHTML, on the
// shell of package page with the charts of package chart). Two saved runs
// are compared side by side (WriteComparison), or merged with their
// transports tagged, so that one page draws both (Merge). Failures lists
// the points where calls failed, for the command to print and to fail
// the run on.
//
// The figures are of successful calls: the ranking and calls/s count
// only calls that succeeded, the error rate stands beside them, a
// transport with errors ranks below every one without, and a point where
// no call succeeded shows as a failure, never as a row of zeros.
//
// Rendering never measures: a report renders the same from a Report
// fresh from bench.Run as from one read back from JSON.
package report
