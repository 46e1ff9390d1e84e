package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/igbank/igbank/loadtest/bench"
	"github.com/igbank/igbank/loadtest/faults"
	"github.com/igbank/igbank/loadtest/herd"
	"github.com/igbank/igbank/loadtest/report"
)

const reportUsage = `usage: loadtest report [flags] RUN.json [OTHER.json]

Renders a run saved with "loadtest run -json" again, or one saved by
"loadtest faults -json" or "loadtest herd -json" (as a table, or -html); with
two files, compares them side by side: two benchmark runs (the HTML then shows
both runs, tagged A and B), or two fault runs, such as keys on and keys off
(the HTML then sets their matrices and outage timelines side by side). A file
saved before files had a kind is read as then: an array is a fault run,
anything else a benchmark run.

Flags:
`

func reportMain(args []string, stdout, stderr io.Writer) int {
	o := &outputs{}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, reportUsage)
		fs.PrintDefaults()
	}
	o.register(fs, false)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fmt.Fprintln(stderr, "loadtest report: want one saved run, or two to compare")
		fs.Usage()
		return 2
	}
	files := make([]saved, fs.NArg())
	for i, path := range fs.Args() {
		f, err := readSaved(path)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest report: %v\n", err)
			return 1
		}
		files[i] = f
	}
	if len(files) == 2 && files[0].kind != files[1].kind {
		fmt.Fprintf(stderr, "loadtest report: %s is a %s run and %s a %s run: compare two of a kind\n", files[0].path, files[0].kind, files[1].path, files[1].kind)
		return 1
	}
	switch files[0].kind {
	case bench.Kind:
		return benchReport(files, o, stdout, stderr)
	case faults.Kind:
		return faultsReport(files, o, stdout, stderr)
	case herd.Kind:
		return herdReport(files, o, stdout, stderr)
	}
	fmt.Fprintf(stderr, "loadtest report: %s: a saved %q file, which report does not render\n", files[0].path, files[0].kind)
	return 1
}

// saved is a file that loadtest saved: where it was, its kind, its bytes.
type saved struct {
	path, kind string
	data       []byte
}

// readSaved reads a file that loadtest saved and tells its kind from its
// "kind" field. A file from before kinds (format 1) has none, and is told
// by its shape as it was then: a JSON array is a fault run, anything else
// a benchmark run.
func readSaved(path string) (saved, error) {
	f := saved{path: path}
	var err error
	if f.data, err = os.ReadFile(path); err != nil {
		return f, err
	}
	if d := bytes.TrimSpace(f.data); len(d) > 0 && d[0] == '[' {
		f.kind = faults.Kind
		return f, nil
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(f.data, &head); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	f.kind = head.Kind
	if f.kind == "" {
		f.kind = bench.Kind
	}
	return f, nil
}

// benchReport renders one benchmark run again, or compares two.
func benchReport(files []saved, o *outputs, stdout, stderr io.Writer) int {
	runs := make([]*bench.Report, len(files))
	for i, f := range files {
		r, err := report.Decode(f.data)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest report: %s: %v\n", f.path, err)
			return 1
		}
		runs[i] = r
	}
	run := runs[0]
	if len(runs) == 2 {
		if !o.quiet {
			report.WriteComparison(stdout, runs[0], runs[1], files[0].path, files[1].path)
		}
		run = report.Merge(runs[0], runs[1], "(A)", "(B)")
	} else if !o.quiet {
		report.WriteTable(stdout, run)
	}
	if err := o.write(run); err != nil {
		fmt.Fprintf(stderr, "loadtest report: %v\n", err)
		return 1
	}
	return 0
}

// faultsReport renders one fault run again (the tables, and the HTML
// page if asked), or compares two.
func faultsReport(files []saved, o *outputs, stdout, stderr io.Writer) int {
	if o.csv != "" || o.bench != "" {
		fmt.Fprintln(stderr, "loadtest report: a fault matrix renders as a table or HTML only")
		return 2
	}
	runs := make([][]faults.Result, len(files))
	for i, f := range files {
		results, err := faults.Decode(f.data)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest report: %s: %v\n", f.path, err)
			return 1
		}
		runs[i] = results
	}
	var err error
	if len(runs) == 1 {
		if !o.quiet {
			faults.WriteTable(stdout, runs[0])
		}
		err = writeFaultFiles(runs[0], "", o.html)
	} else {
		a, b, nameA, nameB := runs[0], runs[1], files[0].path, files[1].path
		if !o.quiet {
			faults.WriteComparison(stdout, a, b, nameA, nameB)
		}
		if o.html != "" {
			err = writeOut(o.html, func(w io.Writer) error { return faults.WriteComparisonHTML(w, a, b, nameA, nameB) })
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest report: %v\n", err)
		return 1
	}
	return 0
}

// herdReport renders one herd run again: the table, and the HTML page if
// asked.
func herdReport(files []saved, o *outputs, stdout, stderr io.Writer) int {
	if o.csv != "" || o.bench != "" {
		fmt.Fprintln(stderr, "loadtest report: a herd run renders as a table or HTML only")
		return 2
	}
	if len(files) == 2 {
		fmt.Fprintln(stderr, "loadtest report: herd runs are not compared: give one")
		return 2
	}
	r, err := herd.Decode(files[0].data)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest report: %s: %v\n", files[0].path, err)
		return 1
	}
	if !o.quiet {
		herd.WriteText(stdout, r)
	}
	if o.html != "" {
		if err := writeOut(o.html, func(w io.Writer) error { return herd.WriteHTML(w, r) }); err != nil {
			fmt.Fprintf(stderr, "loadtest report: %v\n", err)
			return 1
		}
	}
	return 0
}
