package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// workshopDir holds the students' pages.
var workshopDir = filepath.Join("..", "..", "..", "docs", "workshop")

// A page's check: the loadtest command line of its lesson in short form
// (<!-- check: ARGS -->), and the shape its output must have
// (<!-- expect: REGEXP --> lines after it, each matching a line of the
// standard output).
type pageCheck struct {
	args   []string
	expect []*regexp.Regexp
}

var (
	checkLine  = regexp.MustCompile(`^<!-- check: (.*) -->$`)
	expectLine = regexp.MustCompile(`^<!-- expect: (.*) -->$`)
	// A date in a command: no page may name one (the month defaults to
	// the current one everywhere).
	datedCommand = regexp.MustCompile(`(?m)^(go run|\S*loadtest|\S*client|curl|grpcurl)\b.*\b20\d\d-\d\d\b`)
)

func readChecks(t *testing.T, page string) []pageCheck {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if m := datedCommand.Find(b); m != nil {
		t.Errorf("%s: a command names a date: %q", page, m)
	}
	var checks []pageCheck
	for _, line := range strings.Split(string(b), "\n") {
		if m := checkLine.FindStringSubmatch(line); m != nil {
			checks = append(checks, pageCheck{args: strings.Fields(m[1])})
			continue
		}
		if m := expectLine.FindStringSubmatch(line); m != nil {
			if len(checks) == 0 {
				t.Fatalf("%s: an expect before any check: %s", page, line)
			}
			re, err := regexp.Compile("(?m)" + m[1])
			if err != nil {
				t.Fatalf("%s: %v", page, err)
			}
			c := &checks[len(checks)-1]
			c.expect = append(c.expect, re)
		}
	}
	return checks
}

// TestWorkshopPages runs the command of every student page that drives
// loadtest, in the short form its check comment gives, and checks that
// the output still has the shape the page shows; every page that tells
// students to run loadtest has a check, none names a date, and the index
// links every page.
func TestWorkshopPages(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(workshopDir, "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages in %s: %v", workshopDir, err)
	}
	index, err := os.ReadFile(filepath.Join(workshopDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range pages {
		name := filepath.Base(page)
		if name == "README.md" {
			continue
		}
		if !strings.Contains(string(index), "("+name+")") {
			t.Errorf("the index (README.md) does not link %s", name)
		}
		checks := readChecks(t, page)
		b, _ := os.ReadFile(page)
		if strings.Contains(string(b), "go run ./loadtest/cmd/loadtest") && len(checks) == 0 {
			t.Errorf("%s runs loadtest but has no <!-- check: ... --> of its command", name)
		}
		for i, c := range checks {
			t.Run(strings.TrimSuffix(name, ".md")+"/"+c.args[0], func(t *testing.T) {
				if testing.Short() && i > 0 {
					t.Skip("short")
				}
				if len(c.expect) == 0 {
					t.Fatalf("check %q has no expect", c.args)
				}
				var out, errb bytes.Buffer
				if code := command(c.args, &out, &errb); code != 0 {
					t.Fatalf("loadtest %s: exit %d\n%s\n%s", strings.Join(c.args, " "), code, out.String(), errb.String())
				}
				for _, re := range c.expect {
					if !re.Match(out.Bytes()) {
						t.Errorf("loadtest %s: no line matches %s in:\n%s", strings.Join(c.args, " "), re, out.String())
					}
				}
			})
		}
	}
}
