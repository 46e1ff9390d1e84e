package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStartersFailAndSolutionsPass is the workshop's proof in CI, both
// ways: every starter fails its grader with a reason a student can read,
// and every reference solution passes it. A grader that the starter
// passes teaches nothing; one that the solution fails cannot be passed.
func TestStartersFailAndSolutionsPass(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	starters, err := Grade(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(starters) == 0 {
		t.Fatal("no exercise found")
	}
	for _, r := range starters {
		switch {
		case r.Pass:
			t.Errorf("ex%02d %s: the starter code passes its grader", r.Number, r.Name)
		case !readable(r.Reason):
			t.Errorf("ex%02d %s: the starter fails with %q, not a reason a student can read:\n%s", r.Number, r.Name, r.Reason, r.Output)
		default:
			t.Logf("%s", r)
		}
	}
	solutions, err := Grade(ctx, Options{Solution: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(solutions) != len(starters) {
		t.Errorf("%d solutions for %d starters", len(solutions), len(starters))
	}
	for _, r := range solutions {
		if !r.Pass {
			t.Errorf("%s\n%s", r, r.Output)
		}
	}
}

// readable says whether a failure's reason is the grader's own sentence,
// not a crash, a hang, a compile error or an empty message.
func readable(reason string) bool {
	for _, bad := range []string{"does not compile", "panicked", "timed out", "did not run", "without saying why"} {
		if strings.Contains(reason, bad) {
			return false
		}
	}
	return len(strings.Fields(reason)) >= 5
}

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{"3", "-solution", "ex05", "--v"})
	if err != nil || !o.Solution || !o.Verbose || len(o.Only) != 2 || o.Only[0] != 3 || o.Only[1] != 5 {
		t.Fatalf("parseArgs = %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-x"}, {"three"}, {"0"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		}
	}
}

func TestVerdict(t *testing.T) {
	out := []byte(`{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestGrade"}
{"Action":"output","Package":"p","Test":"TestGrade","Output":"=== RUN   TestGrade\n"}
{"Action":"output","Package":"p","Test":"TestGrade","Output":"    grade_test.go:31: you retried a not_found error 3 times\n"}
{"Action":"output","Package":"p","Test":"TestGrade","Output":"--- FAIL: TestGrade (0.01s)\n"}
{"Action":"fail","Package":"p","Test":"TestGrade"}
{"Action":"fail","Package":"p"}
{"ImportPath":"q [q.test]","Action":"build-output","Output":"# q\n"}
{"ImportPath":"q [q.test]","Action":"build-output","Output":"q/x.go:3:1: syntax error\n"}
{"Action":"fail","Package":"q","FailedBuild":"q [q.test]"}
`)
	pkgs := parse(out)
	if ok, why := pkgs["p"].verdict(""); ok || why != "you retried a not_found error 3 times" {
		t.Errorf("p: %v %q", ok, why)
	}
	if ok, why := pkgs["q"].verdict(""); ok || why != "your code does not compile: q/x.go:3:1: syntax error" {
		t.Errorf("q: %v %q", ok, why)
	}
}
