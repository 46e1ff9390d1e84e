// Package sqlite is the embedded durable ledger: one SQLite file, written
// through the pure-Go driver modernc.org/sqlite (no cgo).
//
// Durability: the database runs in WAL mode with synchronous=NORMAL by
// default. A deposit is acknowledged only after its transaction has been
// committed to the WAL file through write(2), so it survives a crash of the
// process (SIGKILL, panic, OOM kill): the kernel holds the page and writes
// it out. A power loss or kernel crash may lose the last transactions
// acknowledged before it (not fsynced yet), but never leaves the file
// corrupt or a deposit half applied. WithSynchronousFull (or
// "sqlite:PATH?synchronous=full" in a store spec) fsyncs the WAL at every
// commit, so acknowledged deposits also survive a power loss, at the cost
// of one fsync per deposit.
//
// The file is owned by one process: writes go through one connection, and
// the in-flight rule (a repeat of a key while the first is being applied
// gets InFlight) is kept in that process's memory, exactly as the Memory
// ledger keeps it. Two processes on one file would still apply every key at
// most once (the key's row is checked inside the write transaction), but a
// concurrent repeat would wait instead of getting InFlight.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store/internal/sweeper"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Option configures a Store.
type Option func(*config)

type config struct {
	now               func() time.Time
	retention         time.Duration
	sweepInterval     time.Duration
	syncFull          bool
	readers           int
	commitCheckpoints bool
}

// WithClock sets the clock used for transaction times and key expiry;
// tests inject a fake one.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRetention sets how long an idempotency key is remembered (default
// ledger.DefaultRetention).
func WithRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithSweepInterval sets how often expired keys are deleted (default one
// minute; 0 or less turns the background sweep off).
func WithSweepInterval(d time.Duration) Option { return func(c *config) { c.sweepInterval = d } }

// WithSynchronousFull fsyncs the WAL at every commit (synchronous=FULL), so
// that acknowledged deposits survive a power loss too.
func WithSynchronousFull() Option { return func(c *config) { c.syncFull = true } }

// WithCommitCheckpoints leaves WAL checkpoints to SQLite's default: the
// commit that fills the WAL past 1,000 pages runs the checkpoint (and its
// fsyncs) before its deposits are acknowledged. By default a background
// connection checkpoints every 100 ms instead, off the writer's path.
func WithCommitCheckpoints() Option { return func(c *config) { c.commitCheckpoints = true } }

// Store is the SQLite ledger. It implements bank.Ledger and is safe for
// concurrent use.
type Store struct {
	cfg config
	w   *sql.DB // one connection: SQLite has one writer at a time
	r   *sql.DB // readers, query_only

	mu       sync.Mutex
	inflight map[string]fingerprint

	// jobs feeds the single writer goroutine (writeLoop), in arrival
	// order: goroutines blocked on a channel are woken first come, first
	// served, while database/sql hands its one connection to a random
	// waiter, which made the 99th percentile at 64 callers ten times the
	// median.
	jobs       chan *job
	stopWriter chan struct{}
	writerDone chan struct{}

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared once per pool, by pool and query

	sweeper      *sweeper.Sweeper
	checkpointer *sweeper.Sweeper
	ckpt         *sql.DB // the checkpointer's connection
	closeOnce    sync.Once
}

type fingerprint struct {
	account bank.AccountNo
	amount  bank.Money
}

// migrations are applied in order, each once, in its own transaction; the
// schema_migrations table records which ran. Append, never edit.
var migrations = []string{
	1: `
CREATE TABLE accounts (
	no      TEXT PRIMARY KEY,
	opening INTEGER NOT NULL,
	balance INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE transactions (
	id            INTEGER PRIMARY KEY, -- rows are never deleted, so ids only grow
	account       TEXT NOT NULL,
	at            INTEGER NOT NULL, -- Unix nanoseconds, UTC
	amount        INTEGER NOT NULL,
	balance_after INTEGER NOT NULL,
	idem_key      TEXT NOT NULL
);
CREATE INDEX transactions_account_at ON transactions (account, at, id);
CREATE TABLE idempotency_keys (
	key        TEXT PRIMARY KEY,
	account    TEXT NOT NULL,
	amount     INTEGER NOT NULL,
	tx_id      INTEGER NOT NULL,
	balance    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL -- Unix nanoseconds
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
`,
}

// Open opens (creating if needed) the database file at path, migrates its
// schema, and seeds accounts 1 to n (ledger.SeedAccount, ledger.SeedBalance)
// that are not there yet. Existing accounts and their balances are kept.
func Open(ctx context.Context, path string, n int, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now, retention: ledger.DefaultRetention, sweepInterval: time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.readers <= 0 {
		cfg.readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	syncMode := "NORMAL"
	if cfg.syncFull {
		syncMode = "FULL"
	}
	// busy_timeout covers the moments another connection holds the lock
	// (checkpoints, the readers' snapshot start); _txlock=immediate takes
	// the write lock at BEGIN, so a write transaction never fails halfway
	// on a lock upgrade.
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)"
	autoCheckpoint := "0"
	if cfg.commitCheckpoints {
		autoCheckpoint = "1000"
	}
	w, err := sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_pragma=synchronous("+syncMode+")&_pragma=wal_autocheckpoint("+autoCheckpoint+")&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{cfg: cfg, w: w, inflight: make(map[string]fingerprint), jobs: make(chan *job), stopWriter: make(chan struct{}), writerDone: make(chan struct{}), stmts: make(map[string]*sql.Stmt)}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	if err := s.seed(ctx, n); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: seed %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(cfg.readers)
	r.SetMaxIdleConns(cfg.readers)
	s.r = r
	// Prepare the writer's statements now: preparing one later, inside a
	// write transaction, would wait for the writer's only connection.
	for _, q := range writerQueries {
		if _, err := s.prep(ctx, w, q); err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	go s.writeLoop()
	s.sweeper = sweeper.Start(cfg.sweepInterval, s.Sweep)
	s.checkpointer = sweeper.Start(0, nil)
	if !cfg.commitCheckpoints {
		// A PASSIVE checkpoint copies what it can from the WAL into the
		// database without waiting for, or blocking, the writer and the
		// readers.
		c, err := sql.Open("sqlite", base+"&_pragma=synchronous("+syncMode+")")
		if err != nil {
			s.Close()
			return nil, err
		}
		c.SetMaxOpenConns(1)
		s.ckpt = c
		s.checkpointer = sweeper.Start(100*time.Millisecond, func(ctx context.Context) (int64, error) {
			_, err := c.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			return 0, err
		})
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	for v := 1; v < len(migrations); v++ {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&done); err != nil {
			tx.Rollback()
			return err
		}
		if done > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UnixNano()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// seed inserts the accounts that are missing, in one transaction.
func (s *Store) seed(ctx context.Context, n int) error {
	var have int
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&have); err != nil {
		return err
	}
	if have >= n {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO accounts (no, opening, balance) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		b := int64(ledger.SeedBalance(i))
		if _, err := st.ExecContext(ctx, string(ledger.SeedAccount(i)), b, b); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// The statements of a deposit, prepared at Open.
const (
	qAccountBalance = `SELECT a.balance, (SELECT max(t.at) FROM transactions t WHERE t.account = a.no) FROM accounts a WHERE a.no = ?`
	qKey            = `SELECT account, amount, tx_id, balance, expires_at FROM idempotency_keys WHERE key = ?`
	qDeleteKey      = `DELETE FROM idempotency_keys WHERE key = ?`
	qSetBalance     = `UPDATE accounts SET balance = ? WHERE no = ?`
	qInsertTx       = `INSERT INTO transactions (account, at, amount, balance_after, idem_key) VALUES (?, ?, ?, ?, ?) RETURNING id`
	qInsertKey      = `INSERT INTO idempotency_keys (key, account, amount, tx_id, balance, expires_at) VALUES (?, ?, ?, ?, ?, ?)`
)

var writerQueries = []string{qAccountBalance, qKey, qDeleteKey, qSetBalance, qInsertTx, qInsertKey}

// prep returns the statement for q prepared on db (s.w or s.r), preparing
// it the first time: parsing SQL costs more than running these statements.
func (s *Store) prep(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	k := "r" + q
	if db == s.w {
		k = "w" + q
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st := s.stmts[k]; st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	s.stmts[k] = st
	return st, nil
}

// writerStmt returns a statement prepared at Open; it never prepares, so
// it is safe inside a write transaction.
func (s *Store) writerStmt(q string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st := s.stmts["w"+q]; st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("sqlite: statement not prepared: %s", q)
}

// txExec and txQueryRow run a prepared statement of the writer in tx.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	st, err := s.writerStmt(q)
	if err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return err
}

func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Row, error) {
	st, err := s.writerStmt(q)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...), nil
}

// Close stops the sweep and closes the database. A WAL checkpoint runs on
// the last connection's close.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.sweeper != nil {
			s.sweeper.Stop()
			s.checkpointer.Stop()
			close(s.stopWriter)
			<-s.writerDone
		}
		for _, st := range s.stmts {
			st.Close()
		}
		if s.ckpt != nil {
			err = s.ckpt.Close()
		}
		err = errors.Join(err, s.r.Close(), s.w.Close())
	})
	return err
}

// Balance implements bank.Ledger.
func (s *Store) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	var b int64
	st, err := s.prep(ctx, s.r, `SELECT balance FROM accounts WHERE no = ?`)
	if err == nil {
		err = st.QueryRowContext(ctx, string(acc)).Scan(&b)
	}
	if err != nil {
		return 0, s.mapErr(ctx, acc, err)
	}
	return bank.Money(b), nil
}

// Statement implements bank.Ledger. It reads in one transaction, so the
// balances and the page come from one snapshot. The page is a keyset
// query on the index (account, at, id): WHERE (at, id) > cursor ORDER BY
// at, id LIMIT n+1, which costs the same on the last page as on the first.
func (s *Store) Statement(ctx context.Context, q bank.StatementQuery) (bank.Statement, error) {
	acc := q.Account
	start, end, err := q.Month.Range()
	if err != nil {
		return bank.Statement{}, err
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return bank.Statement{}, s.mapErr(ctx, acc, err)
	}
	defer tx.Rollback()
	var opening int64
	if err := tx.QueryRowContext(ctx, `SELECT opening FROM accounts WHERE no = ?`, string(acc)).Scan(&opening); err != nil {
		return bank.Statement{}, s.mapErr(ctx, acc, err)
	}
	err = tx.QueryRowContext(ctx, `SELECT balance_after FROM transactions WHERE account = ? AND at < ? ORDER BY at DESC, id DESC LIMIT 1`,
		string(acc), start.UnixNano()).Scan(&opening)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return bank.Statement{}, s.mapErr(ctx, acc, err)
	}
	closing := opening
	err = tx.QueryRowContext(ctx, `SELECT balance_after FROM transactions WHERE account = ? AND at < ? ORDER BY at DESC, id DESC LIMIT 1`,
		string(acc), end.UnixNano()).Scan(&closing)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return bank.Statement{}, s.mapErr(ctx, acc, err)
	}
	st := bank.Statement{Account: acc, Month: q.Month, Opening: bank.Money(opening), Closing: bank.Money(closing)}
	// Without a cursor (or with one before the month), the page starts
	// just before the month: (start, MinInt64) sorts before every
	// transaction of the month. The lower bound is the row value alone, not
	// also "at >= start": with two lower bounds on at, SQLite ranged over
	// the whole month and filtered, and the last page of 20,000 cost 16
	// times the first (BenchmarkStatementPage).
	afterAt, afterID := start.UnixNano(), int64(math.MinInt64)
	if q.After != nil && q.After.Time.UnixNano() >= afterAt {
		afterAt, afterID = q.After.Time.UnixNano(), q.After.ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, at, amount, balance_after, idem_key FROM transactions
		WHERE account = ? AND (at, id) > (?, ?) AND at < ? ORDER BY at, id LIMIT ?`,
		string(acc), afterAt, afterID, end.UnixNano(), q.Limit+1)
	if err != nil {
		return bank.Statement{}, s.mapErr(ctx, acc, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t bank.Transaction
		var at int64
		if err := rows.Scan(&t.ID, &at, &t.Amount, &t.BalanceAfter, &t.IdempotencyKey); err != nil {
			return bank.Statement{}, s.mapErr(ctx, acc, err)
		}
		t.Time = time.Unix(0, at).UTC()
		st.Transactions = append(st.Transactions, t)
	}
	if err := rows.Err(); err != nil {
		return bank.Statement{}, s.mapErr(ctx, acc, err)
	}
	return st, nil
}

// Deposit implements bank.Ledger. The key is claimed in memory first (a
// concurrent repeat sees InFlight), then one write transaction checks the
// account and the stored key, updates the balance, and records the
// transaction and the key with its receipt.
func (s *Store) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	fp := fingerprint{req.Account, req.Amount}
	s.mu.Lock()
	if other, busy := s.inflight[req.IdempotencyKey]; busy {
		s.mu.Unlock()
		if other != fp {
			return bank.DepositReceipt{}, errKeyReuse()
		}
		return bank.DepositReceipt{}, bank.Errorf(bank.InFlight, "a deposit with this idempotency key is still being applied")
	}
	s.inflight[req.IdempotencyKey] = fp
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, req.IdempotencyKey)
		s.mu.Unlock()
	}()

	now := s.cfg.now()
	r, err := s.deposit(ctx, req, now)
	if err != nil {
		return bank.DepositReceipt{}, s.mapErr(ctx, req.Account, err)
	}
	return r, nil
}

func errKeyReuse() error {
	return bank.Errorf(bank.IdempotencyKeyReuse, "idempotency key was used for a different deposit")
}

// job is one deposit waiting for the writer.
type job struct {
	ctx  context.Context
	req  bank.DepositRequest
	now  time.Time
	r    bank.DepositReceipt
	err  error
	done chan struct{}
}

// maxBatch bounds how many deposits share one transaction.
const maxBatch = 128

func (s *Store) deposit(ctx context.Context, req bank.DepositRequest, now time.Time) (bank.DepositReceipt, error) {
	j := &job{ctx: ctx, req: req, now: now, done: make(chan struct{})}
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		return bank.DepositReceipt{}, ctx.Err()
	case <-s.stopWriter:
		return bank.DepositReceipt{}, bank.Errorf(bank.Unavailable, "the ledger is closing")
	}
	select {
	case <-j.done:
		return j.r, j.err
	case <-ctx.Done():
		// The deposit may still be applied: as with a lost response, a
		// retry with the same key gets the stored receipt, since the
		// writer applies its jobs one batch after another.
		return bank.DepositReceipt{}, ctx.Err()
	}
}

// writeLoop is the single writer. It takes the deposits waiting in
// arrival order (a channel wakes its waiters first come, first served) and
// applies up to maxBatch of them in one transaction: group commit, so that
// under load the transaction and WAL costs are shared, while one caller
// alone still gets a transaction of its own at once.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*job, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case j := <-s.jobs:
			batch = append(batch, j)
		case <-s.stopWriter:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-s.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		s.runBatch(batch)
	}
}

func (s *Store) runBatch(batch []*job) {
	finish := func(err error) {
		for _, j := range batch {
			if err != nil {
				j.r, j.err = bank.DepositReceipt{}, err
			}
			close(j.done)
		}
	}
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		finish(err)
		return
	}
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.err = err // its caller is gone: skip it
			continue
		}
		j.r, j.err = s.apply(ctx, tx, j.req, j.now)
		var be *bank.Error
		if j.err != nil && !errors.As(j.err, &be) && !errors.Is(j.err, sql.ErrNoRows) {
			// A failure of the database, not a refusal of this deposit:
			// nothing of the batch is committed.
			tx.Rollback()
			finish(j.err)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		finish(err)
		return
	}
	finish(nil)
}

// apply applies one deposit inside tx. A refusal (a bank error or
// sql.ErrNoRows for an unknown account) has written nothing; any other
// error may have, and fails the whole transaction.
func (s *Store) apply(ctx context.Context, tx *sql.Tx, req bank.DepositRequest, now time.Time) (bank.DepositReceipt, error) {
	var (
		balance int64
		last    sql.NullInt64 // the time of the account's latest transaction
	)
	row, err := s.txQueryRow(ctx, tx, qAccountBalance, string(req.Account))
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	if err := row.Scan(&balance, &last); err != nil {
		return bank.DepositReceipt{}, err
	}
	// As in ledger.Memory, a transaction is never dated before the
	// account's previous one, even when the wall clock steps back, so that
	// an account's transactions are in time order.
	at := now.UnixNano()
	if last.Valid && at < last.Int64 {
		at = last.Int64
	}
	var (
		kAcc             string
		kAmount, expires int64
		r                bank.DepositReceipt
	)
	row, err = s.txQueryRow(ctx, tx, qKey, req.IdempotencyKey)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	err = row.Scan(&kAcc, &kAmount, &r.TransactionID, &r.Balance, &expires)
	expired := false
	switch {
	case err == nil && now.UnixNano() < expires:
		if bank.AccountNo(kAcc) != req.Account || bank.Money(kAmount) != req.Amount {
			return bank.DepositReceipt{}, errKeyReuse()
		}
		r.Replayed = true
		return r, nil
	case err == nil:
		expired = true // not swept yet
	case !errors.Is(err, sql.ErrNoRows):
		return bank.DepositReceipt{}, err
	}
	nb, err := bank.AddBalance(bank.Money(balance), req.Amount)
	if err != nil {
		return bank.DepositReceipt{}, err
	}
	// Every check passed; from here on, writes.
	if expired {
		if err := s.txExec(ctx, tx, qDeleteKey, req.IdempotencyKey); err != nil {
			return bank.DepositReceipt{}, dbErr(err)
		}
	}
	if err := s.txExec(ctx, tx, qSetBalance, int64(nb), string(req.Account)); err != nil {
		return bank.DepositReceipt{}, dbErr(err)
	}
	row, err = s.txQueryRow(ctx, tx, qInsertTx,
		string(req.Account), at, int64(req.Amount), int64(nb), req.IdempotencyKey)
	if err != nil {
		return bank.DepositReceipt{}, dbErr(err)
	}
	if err := row.Scan(&r.TransactionID); err != nil {
		return bank.DepositReceipt{}, dbErr(err)
	}
	r.Balance = nb
	if err := s.txExec(ctx, tx, qInsertKey,
		req.IdempotencyKey, string(req.Account), int64(req.Amount), r.TransactionID, int64(nb), now.Add(s.cfg.retention).UnixNano()); err != nil {
		return bank.DepositReceipt{}, dbErr(err)
	}
	return r, nil
}

// dbErr marks an error after a write as a failure of the transaction,
// even if it is sql.ErrNoRows.
func dbErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: write returned no row: %v", err)
	}
	return err
}

// Sweep deletes the idempotency keys that expired before now, in batches
// of at most 500 rows per transaction so that deposits wait at most one
// short batch for the write lock. It returns how many it deleted.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for {
		res, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key IN
			(SELECT key FROM idempotency_keys WHERE expires_at <= ? LIMIT 500)`, s.cfg.now().UnixNano())
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
		if n < 500 {
			return total, nil
		}
	}
}

// mapErr classifies a database error as a bank error.
func (s *Store) mapErr(ctx context.Context, acc bank.AccountNo, err error) error {
	var be *bank.Error
	switch {
	case errors.As(err, &be):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return bank.Errorf(bank.NotFound, "account %s does not exist", acc)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return bank.FromContext(ctx, err)
	}
	return bank.Wrap(bank.Internal, fmt.Errorf("sqlite: %w", err))
}
