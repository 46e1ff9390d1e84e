package logs_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/logs"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		json       bool
		debug, err bool
	}{
		{nil, false, false, false},
		{[]string{"-log-format", "json"}, true, false, false},
		{[]string{"-log-format", "text", "-log-level", "debug"}, false, true, false},
		{[]string{"-log-level", "error"}, false, false, false},
		{[]string{"-log-format", "xml"}, false, false, true},
		{[]string{"-log-level", "loud"}, false, false, true},
	} {
		var f logs.Flags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		f.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		l, err := f.Logger(&out)
		if (err != nil) != tc.err {
			t.Fatalf("%v: error %v, want error %v", tc.args, err, tc.err)
		}
		if err != nil {
			continue
		}
		l.Debug("quiet")
		l.Error("boom", logs.Err, "cause", logs.Code, "internal")
		got := out.String()
		if strings.Contains(got, "quiet") != tc.debug {
			t.Errorf("%v: debug record logged %v, want %v: %q", tc.args, !tc.debug, tc.debug, got)
		}
		line := strings.TrimSpace(got[strings.Index(got, "\n")+1:])
		if !tc.debug {
			line = strings.TrimSpace(got)
		}
		var rec map[string]any
		isJSON := json.Unmarshal([]byte(line), &rec) == nil
		if isJSON != tc.json {
			t.Errorf("%v: %q is JSON: %v, want %v", tc.args, line, isJSON, tc.json)
		}
		if tc.json && (rec[logs.Err] != "cause" || rec["msg"] != "boom") {
			t.Errorf("%v: record %v", tc.args, rec)
		}
		if !tc.json && !strings.Contains(line, "err=cause code=internal") {
			t.Errorf("%v: text record %q", tc.args, line)
		}
	}
}

func TestStoreSpec(t *testing.T) {
	for spec, want := range map[string]string{
		"":                                  "memory",
		"sqlite:/tmp/x.db":                  "sqlite:/tmp/x.db",
		"postgres://bank:s3cret@db:5432/b":  "postgres://bank:xxxxx@db:5432/b",
		"postgres://bank@db/b?sslmode=none": "postgres://bank@db/b?sslmode=none",
	} {
		if got := logs.StoreSpec(spec); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("StoreSpec(%q) = %q, want %q", spec, got, want)
		}
	}
}
