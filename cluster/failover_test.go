package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/igbank/igbank/cluster"
	"github.com/igbank/igbank/common/directory/etcdtest"
)

// TestFailoverExperiment runs the directory experiment in its default
// form: with fixed addresses, the clients of the killed replica fail
// (the bug); resolving the logical name, none fail and the address
// leaves the set within the TTL and a margin (the fix); a pause shorter
// than the TTL is not suspected, a longer one is, and the replica comes
// back after SIGCONT.
func TestFailoverExperiment(t *testing.T) {
	cfg := cluster.DefaultFailoverConfig()
	cfg.Etcd = etcdtest.Endpoint(t)
	cfg.Bin = bin(t, cfg.Transport)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r, err := cluster.RunFailover(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "failover.html"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := r.WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	r.WriteText(t.Output())
	if r.Static.Calls == 0 || r.Static.Failed == 0 {
		t.Errorf("fixed addresses: %d of %d calls failed, want the killed replica's clients to fail", r.Static.Failed, r.Static.Calls)
	}
	if r.Directory.Calls == 0 || r.Directory.Failed*10 > r.Static.Failed {
		t.Errorf("through the directory: %d of %d calls failed, want far fewer than the %d with fixed addresses", r.Directory.Failed, r.Directory.Calls, r.Static.Failed)
	}
	if r.Detection <= 0 || r.Detection > cfg.TTL+5*time.Second {
		t.Errorf("the killed replica left the set after %v, want within the TTL %v and a margin", r.Detection, cfg.TTL)
	}
	if r.ShortPause.Suspected {
		t.Errorf("a pause of %v (TTL %v) was suspected after %v", r.ShortPause.Paused, cfg.TTL, r.ShortPause.SuspectedAfter)
	}
	if !r.LongPause.Suspected || r.LongPause.BackAfter <= 0 {
		t.Errorf("a pause of %v (TTL %v): suspected %v, back after %v; want suspected, then listed again", r.LongPause.Paused, cfg.TTL, r.LongPause.Suspected, r.LongPause.BackAfter)
	}
}
