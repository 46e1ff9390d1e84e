package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/igbank/igbank/common/audit"
	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// FencingConfig is the process-pause experiment (RunFencing).
type FencingConfig struct {
	// Transport names the replicas' transport ("raw").
	Transport string
	// Bin is the experiments' server (BuildReplica).
	Bin string
	// Postgres is the database's URL; each run works in a fresh schema
	// of it, dropped afterwards.
	Postgres string
	// Lease is the store's claim lease (the store spec's lease=).
	Lease time.Duration
}

// DefaultFencingConfig runs in about 15 s on two cores.
func DefaultFencingConfig() FencingConfig {
	return FencingConfig{Transport: "raw", Lease: 2 * time.Second}
}

// FencingResult is the experiment without the fence (the bug) and with it.
type FencingResult struct {
	Transport    string        `json:"transport"`
	Lease        time.Duration `json:"lease_ns"`
	WithoutFence FencingRun    `json:"without_fence"`
	WithFence    FencingRun    `json:"with_fence"`
}

// FencingRun is one run: replica A claimed the key (StaleToken) and was
// paused past its lease; B took the key over (TakeoverToken) and applied
// the deposit; A was resumed and tried to apply it too.
type FencingRun struct {
	Fence bool `json:"fence"`
	// Paused is how long A was stopped (SIGSTOP to SIGCONT).
	Paused        time.Duration       `json:"paused_ns"`
	StaleToken    int64               `json:"stale_token"`
	TakeoverToken int64               `json:"takeover_token"`
	Takeover      bank.DepositReceipt `json:"takeover_receipt"`
	// Stale is what A answered its client after SIGCONT: a receipt, or
	// StaleError.
	Stale      *bank.DepositReceipt `json:"stale_receipt,omitempty"`
	StaleError string               `json:"stale_error,omitempty"`
	// Refused reports that A's answer was the fence's refusal.
	Refused bool `json:"refused"`
	// Transactions are the key's transaction rows with their tokens.
	Transactions []FencedTransaction `json:"transactions"`
	Audit        audit.Result        `json:"audit"`
}

// RunFencing runs the experiment without the fence, then with it.
func RunFencing(ctx context.Context, cfg FencingConfig) (FencingResult, error) {
	res := FencingResult{Transport: cfg.Transport, Lease: cfg.Lease}
	var err error
	if res.WithoutFence, err = runFencing(ctx, cfg, false); err != nil {
		return res, fmt.Errorf("without the fence: %w", err)
	}
	if res.WithFence, err = runFencing(ctx, cfg, true); err != nil {
		return res, fmt.Errorf("with the fence: %w", err)
	}
	return res, nil
}

func runFencing(ctx context.Context, cfg FencingConfig, fence bool) (FencingRun, error) {
	run := FencingRun{Fence: fence}
	sch, err := newSchema(ctx, cfg.Postgres)
	if err != nil {
		return run, err
	}
	defer sch.drop()
	url, err := sch.url("lease=" + cfg.Lease.String())
	if err != nil {
		return run, err
	}
	var switches []string
	if !fence {
		switches = append(switches, "-without-fence")
	}
	a, ca, err := startReplica(ctx, cfg.Bin, cfg.Transport, url, append(switches, "-pause-after-claim")...)
	if err != nil {
		return run, fmt.Errorf("replica A: %w", err)
	}
	defer func() { a.Resume(); a.Stop(5 * time.Second); ca.Close() }()
	b, cb, err := startReplica(ctx, cfg.Bin, cfg.Transport, url, switches...)
	if err != nil {
		return run, fmt.Errorf("replica B: %w", err)
	}
	defer func() { b.Stop(5 * time.Second); cb.Close() }()

	start := time.Now()
	req := bank.DepositRequest{Account: ledger.SeedAccount(1), Amount: 4242, IdempotencyKey: fmt.Sprintf("fencing-%d", start.UnixNano())}
	type answer struct {
		r   bank.DepositReceipt
		err error
	}
	stale := make(chan answer, 1)
	go func() {
		actx, cancel := context.WithTimeout(ctx, cfg.Lease+30*time.Second)
		defer cancel()
		r, err := ca.Deposit(actx, req)
		stale <- answer{r, err}
	}()
	// A claims the key and stops itself before applying the deposit.
	for !strings.Contains(a.Stderr(), pausedLine) {
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case ans := <-stale:
			return run, fmt.Errorf("replica A answered %+v, %v without pausing", ans.r, ans.err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Since(start) > 10*time.Second {
			return run, fmt.Errorf("replica A did not pause after its claim:\n%s", a.Stderr())
		}
	}
	paused := time.Now()
	// A stops itself right after logging that line; stop it from here too
	// (a second SIGSTOP changes nothing), then make sure it did not apply
	// the deposit first: on a machine loaded enough, the experiment would
	// then show nothing, and says so instead of a wrong result.
	if err := a.Pause(); err != nil {
		return run, err
	}
	if run.StaleToken, err = sch.token(ctx, req.IdempotencyKey); err != nil {
		return run, err
	}
	if txs, err := sch.tokens(ctx, req.IdempotencyKey); err != nil {
		return run, err
	} else if len(txs) > 0 {
		return run, fmt.Errorf("%w: replica A applied the deposit (transaction %d) before it stopped", ErrPauseMissed, txs[0].ID)
	}
	// Past the lease, the retry goes to B, which takes the key over.
	time.Sleep(cfg.Lease + cfg.Lease/4)
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	run.Takeover, err = cb.Deposit(bctx, req)
	cancel()
	if err != nil {
		return run, fmt.Errorf("the retry on replica B: %w", err)
	}
	if run.TakeoverToken, err = sch.token(ctx, req.IdempotencyKey); err != nil {
		return run, err
	}
	if err := a.Resume(); err != nil {
		return run, err
	}
	run.Paused = time.Since(paused)
	var ans answer
	select {
	case ans = <-stale:
	case <-time.After(30 * time.Second):
		return run, errors.New("replica A did not answer after SIGCONT")
	}
	if ans.err != nil {
		run.StaleError = ans.err.Error()
		run.Refused = bank.CodeOf(ans.err) == bank.InFlight && strings.Contains(ans.err.Error(), "fenced")
	} else {
		run.Stale = &ans.r
	}
	if run.Transactions, err = sch.tokens(ctx, req.IdempotencyKey); err != nil {
		return run, err
	}
	d := audit.Deposit{Key: req.IdempotencyKey, Account: req.Account, Amount: req.Amount, Outcome: audit.Acknowledged, Receipt: run.Takeover}
	if run.Audit, err = audit.Check(ctx, cb, audit.Months(start), []audit.Deposit{d}, false); err != nil {
		return run, err
	}
	for _, t := range run.Transactions {
		run.Audit.NoteFencingToken(req.IdempotencyKey, t.Token)
	}
	return run, nil
}

// ErrPauseMissed is the error of a fencing run whose replica A applied
// the deposit before it stopped, so that there was nothing to fence: the
// run shows nothing and may be run again.
var ErrPauseMissed = errors.New("fencing: the pause came too late")

// WriteJSON writes r as indented JSON.
func (r FencingResult) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteText writes r as the terminal report.
func (r FencingResult) WriteText(w io.Writer) {
	fmt.Fprintf(w, "fencing experiment: 2 %s replicas on one PostgreSQL, claim lease %v\n", r.Transport, r.Lease)
	for _, run := range []FencingRun{r.WithoutFence, r.WithFence} {
		name := "without the fence"
		if run.Fence {
			name = "with the fence   "
		}
		fmt.Fprintf(w, "  %s: A claimed the key (token %d) and was paused %v; B took it over (token %d) and applied it (transaction %d);\n",
			name, run.StaleToken, run.Paused.Round(time.Millisecond), run.TakeoverToken, run.Takeover.TransactionID)
		if run.Stale != nil {
			fmt.Fprintf(w, "      after SIGCONT A applied it too (transaction %d)", run.Stale.TransactionID)
		} else {
			fmt.Fprintf(w, "      after SIGCONT A answered: %s", run.StaleError)
		}
		fmt.Fprintf(w, "\n      transactions of the key (id/token): %s; audit: %d duplicated, ok=%v\n", txList(run.Transactions), run.Audit.Duplicated, run.Audit.OK)
	}
}

func txList(ts []FencedTransaction) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%d/%d", t.ID, t.Token))
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ", ")
}

var fencingPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"tx": txList,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>IGBank fencing experiment</title>
<style>body{font-family:sans-serif;max-width:56em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.bad{color:#b00}.good{color:#070}</style></head>
<body><h1>Fencing experiment: 2 {{.Transport}} replicas, claim lease {{ms .Lease}}</h1>
<p>Replica A claims an idempotency key and is paused (SIGSTOP) before applying the deposit. Past the lease, the client's retry reaches replica B, which takes the claim over under a newer fencing token and applies the deposit. Then A is resumed (SIGCONT) and tries to apply it with its stale token.</p>
<table><tr><th>run</th><th>A's token</th><th>paused</th><th>B's token</th><th>A after SIGCONT</th><th>transactions (id/token)</th><th>audit</th></tr>
{{template "row" .WithoutFence}}
{{template "row" .WithFence}}
{{define "row"}}<tr><td>{{if .Fence}}with the fence{{else}}without the fence{{end}}</td><td>{{.StaleToken}}</td><td>{{ms .Paused}}</td><td>{{.TakeoverToken}}</td>
<td>{{if .Stale}}<span class="bad">applied it again (transaction {{.Stale.TransactionID}})</span>{{else}}<span class="good">refused</span>: {{.StaleError}}{{end}}</td>
<td>{{tx .Transactions}}</td><td>{{if .Audit.OK}}<span class="good">exactly once</span>{{else}}<span class="bad">{{.Audit.Duplicated}} duplicated</span>{{end}}</td></tr>{{end}}
</table>
</body></html>
`))

// WriteHTML writes r as a small HTML page.
func (r FencingResult) WriteHTML(w io.Writer) error { return fencingPage.Execute(w, r) }
