package directory_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/igbank/igbank/common/directory"
)

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		in   string
		eps  []string
		name string
	}{
		{"etcd:///igbank/grpc", nil, "igbank/grpc"},
		{"etcd://127.0.0.1:2379/igbank/raw", []string{"127.0.0.1:2379"}, "igbank/raw"},
		{"etcd://a:1,b:2/igbank/thrift-compact", []string{"a:1", "b:2"}, "igbank/thrift-compact"},
		{"etcd:///igbank/test-1/grpc", nil, "igbank/test-1/grpc"},
	} {
		got, err := directory.ParseTarget(c.in)
		if err != nil || got.Name != c.name || !slices.Equal(got.Endpoints, c.eps) {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %v %q", c.in, got, err, c.eps, c.name)
		}
	}
	for _, in := range []string{"", "127.0.0.1:7003", "etcd://", "etcd:///", "etcd:///grpc", "etcd:///igbank", "etcd:///igbank/",
		"etcd:///igbank//grpc", "etcd:///igbank/../x", "etcd://a/igbank/grpc", "etcd://a:1/b/igbank/%", "dns:///igbank/grpc"} {
		if got, err := directory.ParseTarget(in); err == nil {
			t.Errorf("ParseTarget(%q) = %+v, want an error", in, got)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"etcd:///igbank/grpc", "etcd://127.0.0.1:2379,h:2/igbank/raw", "etcd:///igbank//", "etcd://x/igbank/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := directory.ParseTarget(s)
		if err != nil {
			return
		}
		if directory.CheckName(tg.Name) != nil || !strings.HasPrefix(tg.Name, directory.Prefix) {
			t.Fatalf("ParseTarget(%q) accepted the bad name %q", s, tg.Name)
		}
		// What parses prints back to a target that parses the same.
		again, err := directory.ParseTarget(tg.String())
		if err != nil || again.Name != tg.Name || !slices.Equal(again.Endpoints, tg.Endpoints) {
			t.Fatalf("ParseTarget(%q) = %+v, but its String %q parses to %+v, %v", s, tg, tg.String(), again, err)
		}
	})
}
