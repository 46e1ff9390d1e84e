package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/igbank/igbank/common/process"
	"github.com/igbank/igbank/common/transport"
)

// replicaPkg is the experiments' server (internal/replica): any
// transport's cmd/server plus the switches that show the bugs.
const replicaPkg = "github.com/igbank/igbank/cluster/internal/replica"

// pausedLine is what internal/replica logs as it pauses itself.
const pausedLine = "paused after claim"

// BuildReplica compiles the experiments' server into dir and returns the
// binary's path (the go command of PATH, inside the workspace).
func BuildReplica(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "igbank-replica")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, replicaPkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", replicaPkg, err, out)
	}
	return bin, nil
}

// schema is a fresh PostgreSQL schema for one run of an experiment: the
// audit counts from the seed balances, so every run needs its own ledger.
type schema struct {
	base, name string
}

func newSchema(ctx context.Context, base string) (*schema, error) {
	var b [6]byte
	rand.Read(b[:])
	s := &schema{base: base, name: "igbank_experiment_" + hex.EncodeToString(b[:])}
	return s, s.exec(ctx, "CREATE SCHEMA "+s.name)
}

func (s *schema) exec(ctx context.Context, q string) error {
	c, err := pgx.Connect(ctx, s.base)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, q)
	return err
}

// url is the schema's URL with the store parameters params (such as
// "lease=2s") and a small pool.
func (s *schema) url(params ...string) (string, error) {
	u, err := url.Parse(s.base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", s.name)
	q.Set("pool_max_conns", "4")
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// tokens returns the id and fencing token of key's transactions, by id.
func (s *schema) tokens(ctx context.Context, key string) ([]FencedTransaction, error) {
	c, err := pgx.Connect(ctx, s.base)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT id, claim FROM `+s.name+`.transactions WHERE idem_key = $1 ORDER BY id`, key)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[FencedTransaction])
}

// token returns the fencing token key's row holds now.
func (s *schema) token(ctx context.Context, key string) (int64, error) {
	c, err := pgx.Connect(ctx, s.base)
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	var t int64
	err = c.QueryRow(ctx, `SELECT claim FROM `+s.name+`.idempotency_keys WHERE key = $1`, key).Scan(&t)
	return t, err
}

func (s *schema) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.exec(ctx, "DROP SCHEMA "+s.name+" CASCADE")
}

// FencedTransaction is a transaction row and the fencing token that
// applied it, read from the database (no statement carries the token).
type FencedTransaction struct {
	ID    int64 `json:"id"`
	Token int64 `json:"fencing_token"`
}

// startReplica starts the experiments' server for transport on store,
// with the experiment's switches, and a client of it.
func startReplica(ctx context.Context, bin, tr, store string, switches ...string) (*Proc, transport.Client, error) {
	_, v, err := lookup(tr)
	if err != nil {
		return nil, nil, err
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, nil, err
	}
	args, err := ServerArgs(tr)
	if err != nil {
		return nil, nil, err
	}
	// Start puts -addr first; the replica wants -transport first.
	p, err := startFirst(ctx, bin, []string{"-transport", tr}, addr, store, 20, append(slices.Clip(args), switches...)...)
	if err != nil {
		return nil, nil, err
	}
	c, err := v.Dial(ctx, addr, transport.ClientConfig{})
	if err != nil {
		p.Stop(5 * time.Second)
		return nil, nil, err
	}
	return p, c, nil
}

// startFirst is Start with first before the other arguments.
func startFirst(ctx context.Context, bin string, first []string, addr, store string, accounts int, extra ...string) (*Proc, error) {
	args := append(slices.Clip(first), "-addr", addr, "-store", store, "-accounts", fmt.Sprint(accounts))
	p, err := process.Start(ctx, exec.Command(bin, append(args, extra...)...), "ready on")
	if err != nil {
		return nil, err
	}
	return &Proc{Proc: p, Addr: addr}, nil
}
