package directory

import (
	"fmt"
	"os"
	"strings"

	"github.com/igbank/igbank/common/transport"
)

// Prefix starts every key of IGBank's servers in the directory.
const Prefix = "igbank/"

// EnvVar names the environment variable that holds the default etcd
// endpoints (comma-separated host:port).
const EnvVar = "IGBANK_ETCD"

// DefaultEndpoints are etcd's own default client address.
const DefaultEndpoints = "127.0.0.1:2379"

// Endpoints returns the etcd endpoints a program uses by default: those
// of $IGBANK_ETCD, else DefaultEndpoints.
func Endpoints() string {
	if e := os.Getenv(EnvVar); e != "" {
		return e
	}
	return DefaultEndpoints
}

// Target is a parsed logical name: where the directory is, and the name.
type Target struct {
	// Endpoints are the etcd endpoints the target names, nil when it
	// names none (etcd:///...): the program's -directory then.
	Endpoints []string
	// Name is the logical name, such as "igbank/grpc".
	Name string
}

// String returns t in the target syntax.
func (t Target) String() string {
	return transport.NameScheme + "://" + strings.Join(t.Endpoints, ",") + "/" + t.Name
}

// Name returns the logical name of the servers of a transport.
func Name(transportName string) string { return Prefix + transportName }

// ParseTarget parses "etcd:///igbank/grpc" or
// "etcd://HOST:PORT[,HOST:PORT...]/igbank/grpc". The name is two or more
// segments of letters, digits, '.', '_' and '-', separated by single
// slashes, starting with igbank.
func ParseTarget(s string) (Target, error) {
	rest, ok := strings.CutPrefix(s, transport.NameScheme+"://")
	if !ok {
		return Target{}, fmt.Errorf("%q is not a logical name: want %s:///igbank/TRANSPORT", s, transport.NameScheme)
	}
	authority, name, ok := strings.Cut(rest, "/")
	if !ok {
		return Target{}, fmt.Errorf("%q has no name: want %s:///igbank/TRANSPORT", s, transport.NameScheme)
	}
	var t Target
	if authority != "" {
		eps, err := ParseEndpoints(authority)
		if err != nil {
			return Target{}, fmt.Errorf("%q: %w", s, err)
		}
		t.Endpoints = eps
	}
	if err := CheckName(name); err != nil {
		return Target{}, fmt.Errorf("%q: %w", s, err)
	}
	t.Name = name
	return t, nil
}

// CheckName reports whether name is a valid logical name.
func CheckName(name string) error {
	if !strings.HasPrefix(name, Prefix) {
		return fmt.Errorf("name %q does not start with %s", name, Prefix)
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("name %q has an empty or dot segment", name)
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return fmt.Errorf("name %q has %q: want letters, digits, '.', '_', '-' and '/'", name, r)
			}
		}
	}
	return nil
}

// ParseEndpoints parses comma-separated etcd endpoints, each host:port
// (an http:// prefix is allowed and dropped).
func ParseEndpoints(s string) ([]string, error) {
	var eps []string
	for e := range strings.SplitSeq(s, ",") {
		e = strings.TrimPrefix(strings.TrimSpace(e), "http://")
		if e == "" {
			continue
		}
		if strings.ContainsAny(e, "/?#@ ") || !strings.Contains(e, ":") {
			return nil, fmt.Errorf("etcd endpoint %q: want host:port", e)
		}
		eps = append(eps, e)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("no etcd endpoint in %q", s)
	}
	return eps, nil
}
