package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/igbank/igbank/loadtest/bench"
)

// WriteJSON writes the report with everything in it: what "loadtest run
// -json" saves, marked with its kind and format (bench.Kind,
// bench.Format).
func WriteJSON(w io.Writer, r *bench.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(r)
}

// Read reads a benchmark run saved by WriteJSON (see Decode).
func Read(path string) (*bench.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Decode reads a saved benchmark run: of kind bench.Kind in
// bench.Format, or in format 1, the same layout before files had a kind
// (its version under "version"). The summaries are computed again from
// the samples.
func Decode(data []byte) (*bench.Report, error) {
	var r struct {
		bench.Report
		Version int `json:"version"` // format 1
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	switch {
	case r.Kind == bench.Kind && r.Format == bench.Format:
	case r.Kind == "" && r.Version == 1:
		r.Kind, r.Format = bench.Kind, bench.Format
	case r.Kind != "" && r.Kind != bench.Kind:
		return nil, fmt.Errorf("a saved %s run, not a benchmark run", r.Kind)
	default:
		return nil, fmt.Errorf("benchmark run of format %d, this program reads %d (and 1)", max(r.Format, r.Version), bench.Format)
	}
	rep := r.Report
	for _, res := range rep.Results {
		res.Summarize()
	}
	return &rep, nil
}
