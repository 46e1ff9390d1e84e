package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Kind and Format mark a saved fault run: the kind of file (the
// benchmark saves another), and the version of its layout. Format 1 was
// the bare array of cells, before files had a kind.
const (
	Kind   = "faults"
	Format = 2
)

// saved is a fault run as "loadtest faults -json" saves it.
type saved struct {
	Kind    string   `json:"kind"`
	Format  int      `json:"format"`
	Results []Result `json:"results"`
}

// WriteJSON writes results as a saved fault run, every call's timeline
// included; "loadtest report" renders it again.
func WriteJSON(w io.Writer, results []Result) error {
	b, err := json.MarshalIndent(saved{Kind: Kind, Format: Format, Results: results}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Decode reads a saved fault run: of kind Kind in Format, or in format 1,
// a bare JSON array of cells.
func Decode(data []byte) ([]Result, error) {
	if d := bytes.TrimSpace(data); len(d) > 0 && d[0] == '[' {
		var results []Result
		if err := json.Unmarshal(d, &results); err != nil {
			return nil, err
		}
		if len(results) == 0 || results[0].Scenario == "" {
			return nil, errors.New("not a fault run: an array without cells")
		}
		return results, nil
	}
	var s saved
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	switch {
	case s.Kind != Kind:
		return nil, fmt.Errorf("a saved %q run, not a fault run", s.Kind)
	case s.Format != Format:
		return nil, fmt.Errorf("fault run of format %d, this program reads %d (and 1)", s.Format, Format)
	}
	return s.Results, nil
}
