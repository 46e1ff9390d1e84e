package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/transport"
)

// ClocksConfig is the unreliable-clocks experiment (RunClocks).
type ClocksConfig struct {
	// Transport names the replicas' transport ("raw").
	Transport string
	// Bin is the experiments' server (BuildReplica).
	Bin string
	// Postgres is the database's URL; each run works in a fresh schema
	// of it, dropped afterwards.
	Postgres string
	// Retention is how long keys are kept (the store spec's retention=).
	Retention time.Duration
	// Skew is how far replica B's wall clock runs ahead of A's
	// (-clock-offset); more than Retention shows the double deposit.
	Skew time.Duration
}

// DefaultClocksConfig runs in about 10 s on two cores.
func DefaultClocksConfig() ClocksConfig {
	return ClocksConfig{Transport: "raw", Retention: 2 * time.Second, Skew: 10 * time.Second}
}

// ClocksResult is the experiment with each replica's clock deciding (the
// bug) and with the database's (the fix).
type ClocksResult struct {
	Transport     string        `json:"transport"`
	Retention     time.Duration `json:"retention_ns"`
	Skew          time.Duration `json:"skew_ns"`
	ReplicaClocks ClocksRun     `json:"replica_clocks"`
	DatabaseClock ClocksRun     `json:"database_clock"`
}

// ClocksRun is one run.
type ClocksRun struct {
	// ReplicaClocks: each replica's own clock dated and expired.
	ReplicaClocks bool `json:"replica_clocks"`
	// First is the deposit's receipt from A, Retry the receipt of its
	// retry (same key) from B: a replay, or a second transaction.
	First bank.DepositReceipt `json:"first"`
	Retry bank.DepositReceipt `json:"retry"`
	// Earlier (through B) and Later (through A) are two deposits made
	// one after the other, as their statements date them.
	Earlier Dated `json:"earlier"`
	Later   Dated `json:"later"`
	// OutOfOrder reports that the later deposit is dated before the
	// earlier one.
	OutOfOrder bool         `json:"out_of_order"`
	Audit      audit.Result `json:"audit"`
}

// Dated is a deposit: when the client sent it and the time its
// transaction carries.
type Dated struct {
	Replica  string         `json:"replica"`
	Account  bank.AccountNo `json:"account"`
	Sent     time.Time      `json:"sent"`
	Recorded time.Time      `json:"recorded"`
}

// RunClocks runs the experiment with the replicas' clocks deciding, then
// with the database's.
func RunClocks(ctx context.Context, cfg ClocksConfig) (ClocksResult, error) {
	res := ClocksResult{Transport: cfg.Transport, Retention: cfg.Retention, Skew: cfg.Skew}
	var err error
	if res.ReplicaClocks, err = runClocks(ctx, cfg, true); err != nil {
		return res, fmt.Errorf("replica clocks: %w", err)
	}
	if res.DatabaseClock, err = runClocks(ctx, cfg, false); err != nil {
		return res, fmt.Errorf("database clock: %w", err)
	}
	return res, nil
}

func runClocks(ctx context.Context, cfg ClocksConfig, replicaClocks bool) (ClocksRun, error) {
	run := ClocksRun{ReplicaClocks: replicaClocks}
	sch, err := newSchema(ctx, cfg.Postgres)
	if err != nil {
		return run, err
	}
	defer sch.drop()
	url, err := sch.url("retention=" + cfg.Retention.String())
	if err != nil {
		return run, err
	}
	var switches []string
	if replicaClocks {
		switches = append(switches, "-replica-clock")
	}
	a, ca, err := startReplica(ctx, cfg.Bin, cfg.Transport, url, switches...)
	if err != nil {
		return run, fmt.Errorf("replica A: %w", err)
	}
	defer func() { a.Stop(5 * time.Second); ca.Close() }()
	b, cb, err := startReplica(ctx, cfg.Bin, cfg.Transport, url, append(switches, "-clock-offset", cfg.Skew.String())...)
	if err != nil {
		return run, fmt.Errorf("replica B: %w", err)
	}
	defer func() { b.Stop(5 * time.Second); cb.Close() }()

	start := time.Now()
	var deposits []audit.Deposit
	deposit := func(c transport.Client, acc int, key string) (bank.DepositReceipt, error) {
		req := bank.DepositRequest{Account: ledger.SeedAccount(acc), Amount: bank.Money(100 + acc), IdempotencyKey: key}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		r, err := c.Deposit(dctx, req)
		if err != nil {
			return r, fmt.Errorf("deposit %s: %w", key, err)
		}
		deposits = append(deposits, audit.Deposit{Key: key, Account: req.Account, Amount: req.Amount, Outcome: audit.Acknowledged, Receipt: r})
		return r, nil
	}
	// A deposit on A, its retry on B.
	key := fmt.Sprintf("clocks-%d", start.UnixNano())
	if run.First, err = deposit(ca, 1, key); err != nil {
		return run, err
	}
	if run.Retry, err = deposit(cb, 1, key); err != nil {
		return run, err
	}
	deposits = deposits[:1] // one logical deposit, retried
	// Two deposits, one after the other: through B, then through A.
	run.Earlier = Dated{Replica: "B", Account: ledger.SeedAccount(2), Sent: time.Now()}
	if _, err := deposit(cb, 2, key+"-earlier"); err != nil {
		return run, err
	}
	time.Sleep(100 * time.Millisecond)
	run.Later = Dated{Replica: "A", Account: ledger.SeedAccount(3), Sent: time.Now()}
	if _, err := deposit(ca, 3, key+"-later"); err != nil {
		return run, err
	}
	for _, d := range []*Dated{&run.Earlier, &run.Later} {
		var txs []bank.Transaction
		for _, m := range append(audit.Months(start), bank.MonthOf(time.Now().Add(cfg.Skew))) {
			st, err := bank.ReadStatement(ctx, ca, bank.StatementRequest{Account: d.Account, Month: m})
			if err != nil {
				return run, err
			}
			txs = append(txs, st.Transactions...)
		}
		if len(txs) == 0 {
			return run, fmt.Errorf("no transaction on account %s", d.Account)
		}
		d.Recorded = txs[len(txs)-1].Time
	}
	run.OutOfOrder = run.Later.Recorded.Before(run.Earlier.Recorded)
	if run.Audit, err = audit.Check(ctx, ca, audit.Months(start), deposits, false); err != nil {
		return run, err
	}
	return run, nil
}

// WriteJSON writes r as indented JSON.
func (r ClocksResult) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteText writes r as the terminal report.
func (r ClocksResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "clocks experiment: 2 %s replicas on one PostgreSQL, keys kept %v, B's clock %v ahead of A's\n", r.Transport, r.Retention, r.Skew)
	for _, run := range []ClocksRun{r.ReplicaClocks, r.DatabaseClock} {
		name := "database's clock decides"
		if run.ReplicaClocks {
			name = "each replica's clock decides"
		}
		retry := "a replay"
		if !run.Retry.Replayed {
			retry = fmt.Sprintf("APPLIED AGAIN (transaction %d)", run.Retry.TransactionID)
		}
		fmt.Fprintf(w, "  %s:\n    deposit on A (transaction %d), retry on B: %s; audit: %d duplicated, ok=%v\n",
			name, run.First.TransactionID, retry, run.Audit.Duplicated, run.Audit.OK)
		fmt.Fprintf(w, "    deposit through B at %s dated %s; the next, through A at %s, dated %s",
			clockTime(run.Earlier.Sent), clockTime(run.Earlier.Recorded), clockTime(run.Later.Sent), clockTime(run.Later.Recorded))
		if run.OutOfOrder {
			fmt.Fprint(w, ": OUT OF ORDER\n")
		} else {
			fmt.Fprint(w, ": in order\n")
		}
	}
}

func clockTime(t time.Time) string { return t.UTC().Format("15:04:05.000") }

var clocksPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"t":  clockTime,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>IGBank clocks experiment</title>
<style>body{font-family:sans-serif;max-width:56em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.bad{color:#b00}.good{color:#070}</style></head>
<body><h1>Clocks experiment: 2 {{.Transport}} replicas, keys kept {{ms .Retention}}, B's clock {{ms .Skew}} ahead of A's</h1>
<table><tr><th>who decides</th><th>retry on B of A's deposit</th><th>audit</th><th>through B, sent / dated</th><th>then through A, sent / dated</th></tr>
{{template "row" .ReplicaClocks}}
{{template "row" .DatabaseClock}}
{{define "row"}}<tr><td>{{if .ReplicaClocks}}each replica's clock{{else}}the database's clock{{end}}</td>
<td>{{if .Retry.Replayed}}<span class="good">replay</span>{{else}}<span class="bad">applied again (transaction {{.Retry.TransactionID}})</span>{{end}}</td>
<td>{{if .Audit.OK}}<span class="good">exactly once</span>{{else}}<span class="bad">{{.Audit.Duplicated}} duplicated</span>{{end}}</td>
<td>{{t .Earlier.Sent}} / {{t .Earlier.Recorded}}</td><td>{{t .Later.Sent}} / <span class="{{if .OutOfOrder}}bad{{else}}good{{end}}">{{t .Later.Recorded}}</span></td></tr>{{end}}
</table>
<p>With each replica's clock deciding, a key expires when the replica that reads it thinks so: B, ahead by more than the retention, takes A's fresh key for expired. The fix decides expiry (and transaction times) by one clock, the database's.</p>
</body></html>
`))

// WriteHTML writes r as a small HTML page.
func (r ClocksResult) WriteHTML(w io.Writer) error { return clocksPage.Execute(w, r) }
