package cluster_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/cli"
	"github.com/igbank/igbank/common/logs"
)

// Replica i serves its metrics i ports above the first; port 0 gives
// each a free port; the log flags travel to every replica.
func TestReplicaFlagsArgs(t *testing.T) {
	f := cluster.ReplicaFlags{Metrics: "127.0.0.1:9100", Log: logs.Flags{Format: "json", Level: "debug"}}
	args, m, err := f.Args(2)
	if err != nil || m != "127.0.0.1:9102" || !slices.Equal(args, []string{"-log-format", "json", "-log-level", "debug", "-metrics", "127.0.0.1:9102"}) {
		t.Errorf("Args(2) = %q, %q, %v", args, m, err)
	}
	if args, m, err := (cluster.ReplicaFlags{Log: logs.Flags{Format: "text", Level: "info"}}).Args(0); err != nil || m != "" || len(args) != 0 {
		t.Errorf("defaults: Args(0) = %q, %q, %v; want nothing", args, m, err)
	}
	clocks := cluster.ReplicaFlags{Clocks: []cli.Clock{{}, {Offset: 10 * time.Second, DriftPPM: 50}}}
	if args, _, err := clocks.Args(1); err != nil || !slices.Equal(args, []string{"-clock-offset", "10s", "-clock-drift", "50"}) {
		t.Errorf("replica 2's clock: Args(1) = %q, %v", args, err)
	}
	if args, _, err := clocks.Args(0); err != nil || len(args) != 0 {
		t.Errorf("replica 1's true clock: Args(0) = %q, %v; want nothing", args, err)
	}
	for _, bad := range []string{"127.0.0.1", "127.0.0.1:x", "127.0.0.1:65535"} {
		if _, _, err := (cluster.ReplicaFlags{Metrics: bad}).Args(1); err == nil {
			t.Errorf("-metrics %s: no error for replica 2", bad)
		}
	}
}

// A replica started with the cluster's flags serves its metrics where
// the cluster says, and logs in the cluster's format.
func TestReplicaMetrics(t *testing.T) {
	f := cluster.ReplicaFlags{Metrics: "127.0.0.1:0", Log: logs.Flags{Format: "json"}}
	extra, maddr, err := f.Args(0)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := cluster.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := cluster.Start(ctx, bin(t, "raw"), addr, "memory", 10, extra...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(10 * time.Second)
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `igbank_server_connections_total{transport="raw"} 0`) {
		t.Errorf("replica's /metrics:\n%s", body)
	}
	if !strings.HasPrefix(p.Stderr(), `{"time":`) {
		t.Errorf("replica does not log JSON: %q", p.Stderr())
	}
}
