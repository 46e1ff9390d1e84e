// Command grade runs the workshop's graders and says, for each exercise,
// PASS or the first expectation the code does not meet, in words:
//
//	go run ./workshop/cmd/grade            # every exercise, your code
//	go run ./workshop/cmd/grade 1 3        # exercises 1 and 3
//	go run ./workshop/cmd/grade -solution  # the reference solutions
//	go run ./workshop/cmd/grade -v 2       # also the grader's full output
//
// It runs from the workspace's root or from workshop/, on any system with
// Go: it only runs "go test" on the exercises' packages, with the build tag
// "workshop" (your code) or "solution" (the reference), and reads its JSON.
// The exit status is 0 only if every exercise asked for passes.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
)

func main() {
	opts, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "grade:", err)
		fmt.Fprintln(os.Stderr, "usage: go run ./workshop/cmd/grade [-solution] [-v] [N ...]")
		os.Exit(2)
	}
	results, err := Grade(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grade:", err)
		os.Exit(2)
	}
	passed := 0
	for _, r := range results {
		fmt.Println(r)
		if r.Pass {
			passed++
		} else if opts.Verbose && r.Output != "" {
			fmt.Println(indent(r.Output))
		}
	}
	what := "your code"
	if opts.Solution {
		what = "the reference solutions"
	}
	fmt.Printf("%d of %d exercises pass (%s)\n", passed, len(results), what)
	if passed != len(results) {
		os.Exit(1)
	}
}

// parseArgs reads flags and exercise numbers in any order, so that both
// "grade 3 -solution" and "grade -solution 3" work.
func parseArgs(args []string) (Options, error) {
	var o Options
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "solution":
			o.Solution = true
			continue
		case "v":
			o.Verbose = true
			continue
		case "h", "help":
			return o, fmt.Errorf("help requested")
		}
		if strings.HasPrefix(a, "-") {
			return o, fmt.Errorf("unknown flag %s", a)
		}
		n, ok := exerciseNumber(a)
		if !ok {
			return o, fmt.Errorf("%q is not an exercise number (1, 01 or ex01)", a)
		}
		o.Only = append(o.Only, n)
	}
	return o, nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
