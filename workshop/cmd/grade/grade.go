package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// Options say what to grade.
type Options struct {
	Solution bool  // grade the reference solutions (build tag "solution")
	Verbose  bool  // keep the grader's whole output in Result.Output
	Only     []int // exercise numbers; none: every exercise
}

// Result is the grade of one exercise.
type Result struct {
	Number int
	Name   string // "key-once"
	Pass   bool
	// Reason is, for a failure, the first expectation the grader found
	// unmet, as the grader said it (without its file:line), or why the
	// grader could not run (the code does not compile, it panicked, it
	// hung).
	Reason string
	Output string // the grader's output, for -v
}

func (r Result) String() string {
	if r.Pass {
		return fmt.Sprintf("ex%02d %s: PASS", r.Number, r.Name)
	}
	return fmt.Sprintf("ex%02d %s: FAIL — %s", r.Number, r.Name, r.Reason)
}

// The module of the exercises, and how an exercise's folder is named.
const module = "github.com/igbank/igbank/workshop"

var exerciseDir = regexp.MustCompile(`^ex(\d\d)-([a-z0-9-]+)$`)

func exerciseNumber(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(s), "ex"))
	return n, err == nil && n > 0 && n < 100
}

// goTool returns the go command: the one on PATH, else the one of the
// toolchain that built this program.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

type exercise struct {
	number     int
	name, path string
}

// exercises lists the exercise packages of the module, in number order.
func exercises(ctx context.Context, goCmd, tag string) ([]exercise, error) {
	out, err := exec.CommandContext(ctx, goCmd, "list", "-tags", tag, module+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("go list %s/...: %v\n%s(run grade from the workspace's root or from workshop/)", module, err, ee.Stderr)
		}
		return nil, err
	}
	var xs []exercise
	for _, p := range strings.Fields(string(out)) {
		m := exerciseDir.FindStringSubmatch(p[strings.LastIndex(p, "/")+1:])
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		xs = append(xs, exercise{n, m[2], p})
	}
	slices.SortFunc(xs, func(a, b exercise) int { return a.number - b.number })
	return xs, nil
}

// Grade runs the graders asked for, one package at a time (-p 1: the
// graders time retries and must not compete for the CPU), and returns one
// Result per exercise.
func Grade(ctx context.Context, o Options) ([]Result, error) {
	goCmd := goTool()
	tag := "workshop"
	if o.Solution {
		tag = "solution"
	}
	all, err := exercises(ctx, goCmd, tag)
	if err != nil {
		return nil, err
	}
	var xs []exercise
	for _, x := range all {
		if len(o.Only) == 0 || slices.Contains(o.Only, x.number) {
			xs = append(xs, x)
		}
	}
	for _, n := range o.Only {
		if !slices.ContainsFunc(xs, func(x exercise) bool { return x.number == n }) {
			return nil, fmt.Errorf("there is no exercise %d", n)
		}
	}
	if len(xs) == 0 {
		return nil, fmt.Errorf("no exercise found in %s", module)
	}
	args := []string{"test", "-json", "-count=1", "-p=1", "-timeout=60s", "-tags", tag}
	for _, x := range xs {
		args = append(args, x.path)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, err
	}
	pkgs := parse(out)
	results := make([]Result, len(xs))
	for i, x := range xs {
		p := pkgs[x.path]
		r := Result{Number: x.number, Name: x.name}
		if p == nil {
			p = &pkgResult{}
		}
		r.Pass, r.Reason = p.verdict(stderr.String())
		r.Output = p.output.String()
		results[i] = r
	}
	return results, nil
}

// event is one line of go test -json (cmd/test2json), with the build
// output events of Go 1.24 and later.
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output: "pkg [pkg.test]"
}

type pkgResult struct {
	passed, failed bool
	output         bytes.Buffer        // everything the package's tests printed
	build          []string            // build errors
	tests          map[string][]string // each test's output lines
	failedTests    []string            // in the order they failed
}

func parse(out []byte) map[string]*pkgResult {
	pkgs := map[string]*pkgResult{}
	get := func(path string) *pkgResult {
		p := pkgs[path]
		if p == nil {
			p = &pkgResult{tests: map[string][]string{}}
			pkgs[path] = p
		}
		return p
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Action == "build-output" {
			path, _, _ := strings.Cut(e.ImportPath, " ")
			p := get(path)
			p.build = append(p.build, strings.TrimRight(e.Output, "\n"))
			continue
		}
		if e.Package == "" {
			continue
		}
		p := get(e.Package)
		switch e.Action {
		case "output":
			p.output.WriteString(e.Output)
			if e.Test != "" {
				p.tests[e.Test] = append(p.tests[e.Test], strings.TrimRight(e.Output, "\n"))
			}
		case "fail":
			if e.Test == "" {
				p.failed = true
			} else {
				p.failedTests = append(p.failedTests, e.Test)
			}
		case "pass":
			if e.Test == "" {
				p.passed = true
			}
		}
	}
	return pkgs
}

// A grader's message as go test prints it: "    grade_test.go:42: text".
var logLine = regexp.MustCompile(`^\s+[^\s:]+\.go:\d+: (.*)$`)

// verdict says whether the package passed and, if not, why, in the
// student's words.
func (p *pkgResult) verdict(stderr string) (bool, string) {
	if p.passed && !p.failed {
		return true, ""
	}
	if len(p.build) > 0 {
		for _, l := range p.build {
			if strings.Contains(l, ".go:") {
				return false, "your code does not compile: " + strings.TrimSpace(l)
			}
		}
		return false, "your code does not compile: " + strings.TrimSpace(p.build[0])
	}
	out := p.output.String()
	if i := strings.Index(out, "panic: test timed out"); i >= 0 {
		return false, "the grader timed out: your code hangs (run with -v to see where)"
	}
	if i := strings.Index(out, "panic: "); i >= 0 {
		line, _, _ := strings.Cut(out[i:], "\n")
		return false, "your code panicked: " + strings.TrimPrefix(line, "panic: ")
	}
	for _, name := range p.failedTests {
		for _, l := range p.tests[name] {
			if m := logLine.FindStringSubmatch(l); m != nil {
				return false, m[1]
			}
		}
	}
	if !p.passed && !p.failed {
		if s := strings.TrimSpace(stderr); s != "" {
			line, _, _ := strings.Cut(s, "\n")
			return false, "the grader did not run: " + line
		}
		return false, "the grader did not run"
	}
	return false, "the grader failed without saying why (run with -v)"
}
