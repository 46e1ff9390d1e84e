// Package report renders what the engine (package bench) measured: the
// side-by-side table for the terminal (WriteTable), the saved run as JSON
// (WriteJSON, Read, Decode, which also reads the format before saved files
// had a kind), one row per transport and load point as CSV (WriteCSV),
// every round in Go's benchmark format for benchstat (WriteBench), and a
// self-contained HTML page with the table and charts (WriteHTML, on the
// shell of package page with the charts of package chart). Two saved runs
// are compared side by side (WriteComparison), or merged with their
// transports tagged, so that one page draws both (Merge).
//
// Rendering never measures: a report renders the same from a Report
// fresh from bench.Run as from one read back from JSON.
package report
