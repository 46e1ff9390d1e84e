package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
)

// Mix is the share of each operation in the workload, in percent (or any
// weights: only their ratios matter), in the order balance, statement,
// deposit.
type Mix [bank.NumOps]int

// defaultMix is 90% balance, 5% statement, 5% deposit.
var defaultMix = Mix{90, 5, 5}

func (m Mix) String() string { return fmt.Sprintf("%d/%d/%d", m[0], m[1], m[2]) }

// ParseMix reads "B/S/D", such as "90/5/5".
func ParseMix(s string) (Mix, error) {
	parts := strings.Split(s, "/")
	if len(parts) != int(bank.NumOps) {
		return Mix{}, fmt.Errorf("mix %q: want balance/statement/deposit weights such as 90/5/5", s)
	}
	var m Mix
	sum := 0
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return Mix{}, fmt.Errorf("mix %q: %q is not a non-negative integer", s, p)
		}
		m[i] = n
		sum += n
	}
	if sum == 0 {
		return Mix{}, fmt.Errorf("mix %q: weights add up to zero", s)
	}
	return m, nil
}

// Workload says what the callers ask for.
type Workload struct {
	Mix      Mix        `json:"mix"`
	Accounts int        `json:"accounts"` // accounts 1..Accounts are used
	Zipf     float64    `json:"zipf"`     // 0: uniform; > 1: Zipf exponent s (hot accounts)
	Seed     uint64     `json:"seed"`     // same seed, same sequence of calls
	Month    bank.Month `json:"month"`    // month of every statement
	Amount   bank.Money `json:"amount"`   // cents of every deposit
}

// defaultWorkload is the workload of a run with no flags.
func defaultWorkload() Workload {
	return Workload{Mix: defaultMix, Accounts: ledger.DefaultAccounts, Seed: 1, Month: bank.MonthOf(time.Now()), Amount: 100}
}

// describe returns a short human description, for table headers.
func (w Workload) describe() string {
	acc := "uniform"
	if w.Zipf > 0 {
		acc = fmt.Sprintf("zipf s=%g", w.Zipf)
	}
	return fmt.Sprintf("mix %s (balance/statement/deposit), %d accounts %s, seed %d", w.Mix, w.Accounts, acc, w.Seed)
}

// accountTable holds the account numbers once, so picking one allocates
// nothing.
func accountTable(n int) []bank.AccountNo {
	t := make([]bank.AccountNo, n)
	for i := range t {
		t[i] = ledger.SeedAccount(i + 1)
	}
	return t
}

// generator makes one caller's sequence of calls. It is not safe for
// concurrent use: every worker has its own.
type generator struct {
	rng      *rand.Rand
	zipf     *rand.Zipf
	accounts []bank.AccountNo
	cum      [bank.NumOps]int
	total    int
	prefix   string
	slab     []byte
	n        uint64
	// pages holds, per account, the token of the next statement page: a
	// statement call reads one page (bank.DefaultPageSize transactions)
	// and the next statement call for the same account reads the page
	// after it, so a long month is paged through across calls and the
	// server's keyset path is measured, one page request per measured
	// call. An account is absent once its last page has been read (or a
	// call failed): its next statement starts at the first page.
	pages map[bank.AccountNo]string
	// stmtAccounts, if above 0, confines statements to the first that
	// many accounts: those whose month was seeded (load.StatementAccounts).
	// pageSize is every statement's page size (0: the server's default).
	stmtAccounts int
	pageSize     int
}

func newGenerator(w *Workload, accounts []bank.AccountNo, worker int, runID uint64) *generator {
	g := &generator{
		rng:      rand.New(rand.NewPCG(w.Seed, uint64(worker)+1)),
		accounts: accounts,
		prefix:   "lt" + strconv.FormatUint(runID, 36) + "-" + strconv.Itoa(worker) + "-",
	}
	for i, v := range w.Mix {
		g.total += v
		g.cum[i] = g.total
	}
	if w.Zipf > 1 {
		g.zipf = rand.NewZipf(g.rng, w.Zipf, 1, uint64(len(accounts)-1))
	}
	return g
}

func (g *generator) next() (bank.Op, bank.AccountNo) {
	r := g.rng.IntN(g.total)
	op := bank.OpBalance
	for op < bank.NumOps-1 && r >= g.cum[op] {
		op++
	}
	var i uint64
	if g.zipf != nil {
		i = g.zipf.Uint64()
	} else {
		i = g.rng.Uint64N(uint64(len(g.accounts)))
	}
	if op == bank.OpStatement && g.stmtAccounts > 0 {
		i %= uint64(g.stmtAccounts)
	}
	return op, g.accounts[i]
}

// statementRequest returns the request of the next statement call for acc.
func (g *generator) statementRequest(acc bank.AccountNo, month bank.Month) bank.StatementRequest {
	return bank.StatementRequest{Account: acc, Month: month, PageSize: g.pageSize, PageToken: g.pages[acc]}
}

// statementDone records the outcome of a statement call for acc: the
// next call follows st's NextPageToken, or starts over after the last
// page or an error.
func (g *generator) statementDone(acc bank.AccountNo, st bank.Statement, err error) {
	if err != nil || st.NextPageToken == "" {
		if g.pages != nil {
			delete(g.pages, acc)
		}
		return
	}
	if g.pages == nil {
		g.pages = make(map[bank.AccountNo]string)
	}
	g.pages[acc] = st.NextPageToken
}

// key returns a fresh idempotency key. Keys are carved out of a shared
// slab, so a key costs an allocation only once per few thousand.
func (g *generator) key() string {
	const slabSize = 32 << 10
	if cap(g.slab)-len(g.slab) < len(g.prefix)+16 {
		g.slab = make([]byte, 0, slabSize)
	}
	start := len(g.slab)
	g.slab = append(g.slab, g.prefix...)
	g.slab = strconv.AppendUint(g.slab, g.n, 36)
	g.n++
	b := g.slab[start:]
	return unsafe.String(&b[0], len(b))
}
