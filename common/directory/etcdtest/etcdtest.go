// Package etcdtest gives tests the etcd server of the directory tests.
//
// The server comes from the environment variable IGBANK_TEST_ETCD (its
// client address, host:port). When it is unset the test is skipped with a
// loud message, except under CI (CI=true), where a missing etcd fails the
// test: CI must never pass by skipping the directory tests.
// scripts/ci-etcd sets it up.
package etcdtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// EnvVar names the environment variable holding the test server's address.
const EnvVar = "IGBANK_TEST_ETCD"

// Endpoint returns the test server's address, or skips (fails under CI)
// when there is none.
func Endpoint(t testing.TB) string {
	t.Helper()
	e := os.Getenv(EnvVar)
	if e == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI: the directory tests must run (see scripts/ci-etcd)", EnvVar)
		}
		t.Skipf("\n\n*** SKIPPED: %s is not set, so the directory (etcd) tests did not run. ***\n"+
			"*** Run: . scripts/ci-etcd (or start etcd and export %s=127.0.0.1:2379) ***\n\n", EnvVar, EnvVar)
	}
	return e
}

// Name returns a fresh logical name under igbank/ for one test
// ("igbank/test-3f2a.../grpc"), so tests sharing one etcd never see each
// other's servers.
func Name(t testing.TB, transportName string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	return "igbank/test-" + hex.EncodeToString(b[:]) + "/" + transportName
}
