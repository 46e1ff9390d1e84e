// Package postgres is the shared ledger: several stateless server replicas
// use one PostgreSQL database through github.com/jackc/pgx/v5's pool.
//
// Tables: accounts (balance per account), transactions (one row per applied
// deposit), idempotency_keys (one row per key: the request's fingerprint,
// the claim that owns it, its expiry; the stored receipt is the
// transaction row the claim produced).
//
// A deposit is two statements, each its own transaction:
//
//  1. The claim: INSERT INTO idempotency_keys ... ON CONFLICT (key) DO
//     NOTHING, with a fresh random claim id. It commits at once, so every
//     replica sees the key as in flight from then on. If the key was
//     already there, its row decides: another request under the key is
//     IdempotencyKeyReuse, a finished one is replayed from its transaction
//     row, a pending one is InFlight.
//  2. The deposit: one statement that updates the balance and inserts the
//     transaction row carrying the claim id. transactions.claim is UNIQUE,
//     so a claim is applied at most once, whoever runs it.
//
// If the replica that claimed a key dies between 1 and 2 (or while 2 is in
// doubt), the key stays pending. After the lease (WithLease, 5 s by
// default) a repeat of the same request takes it over and runs step 2 with
// the same claim id: if the first attempt did commit, the unique claim
// makes the takeover fail harmlessly and the repeat returns the stored
// receipt; if it did not, the takeover applies it. Exactly once either way.
//
// Only SQL that CockroachDB also accepts is used (no advisory locks, no
// DELETE ... LIMIT, no PL/pgSQL), and serialization (40001) and deadlock
// (40P01) failures are retried inside the store, boundedly.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/igbank/igbank/common/bank"
	"github.com/igbank/igbank/common/ledger"
	"github.com/igbank/igbank/common/store/internal/sweeper"
)

// Option configures a Store.
type Option func(*config)

type config struct {
	now           func() time.Time
	retention     time.Duration
	lease         time.Duration
	sweepInterval time.Duration
	maxRetries    int
}

// WithClock sets the clock used for transaction times and key expiry;
// tests inject a fake one.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRetention sets how long an idempotency key is remembered (default
// ledger.DefaultRetention).
func WithRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithLease sets how long a claimed key whose deposit has not committed is
// reported as InFlight before a repeat may take it over (default 5 s). A
// takeover is always safe; the lease only keeps repeats from piling onto a
// deposit that is still running.
func WithLease(d time.Duration) Option { return func(c *config) { c.lease = d } }

// WithSweepInterval sets how often this replica deletes expired keys
// (default one minute; 0 or less turns it off).
func WithSweepInterval(d time.Duration) Option { return func(c *config) { c.sweepInterval = d } }

// DefaultLease is the default WithLease.
const DefaultLease = 5 * time.Second

// Store is the PostgreSQL ledger. It implements bank.Ledger and is safe for
// concurrent use; any number of Stores (in any number of processes) may
// share one database.
type Store struct {
	cfg  config
	pool *pgxpool.Pool
	// claims runs the key claims with synchronous_commit=off (on
	// PostgreSQL; on CockroachDB it is pool). A claim need not wait for
	// its own fsync: the deposit that follows commits synchronously, and
	// flushing its commit record flushes every WAL record before it, the
	// claim's included. A claim lost in a crash belonged to a deposit
	// that had not committed, so nobody was told it happened.
	claims *pgxpool.Pool

	sweeper   *sweeper.Sweeper
	closeOnce sync.Once
}

// migrations are applied in order, each once. Each is a list of statements
// run in one transaction together with its schema_migrations row, whose
// primary key also serialises replicas that start at the same moment.
var migrations = [][]string{
	1: {
		`CREATE TABLE IF NOT EXISTS accounts (
			no      TEXT PRIMARY KEY,
			opening BIGINT NOT NULL,
			balance BIGINT NOT NULL
		)`,
		`CREATE SEQUENCE IF NOT EXISTS transaction_ids`,
		`CREATE TABLE IF NOT EXISTS transactions (
			id            BIGINT PRIMARY KEY DEFAULT nextval('transaction_ids'),
			claim         BIGINT NOT NULL UNIQUE,
			account       TEXT NOT NULL,
			at            TIMESTAMPTZ NOT NULL,
			amount        BIGINT NOT NULL,
			balance_after BIGINT NOT NULL,
			idem_key      TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS transactions_account_at ON transactions (account, at, id)`,
		`CREATE TABLE IF NOT EXISTS idempotency_keys (
			key        TEXT PRIMARY KEY,
			account    TEXT NOT NULL,
			amount     BIGINT NOT NULL,
			claim      BIGINT NOT NULL,
			claimed_at TIMESTAMPTZ NOT NULL,
			expires_at TIMESTAMPTZ NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS idempotency_keys_expires ON idempotency_keys (expires_at)`,
	},
	// The time of each account's latest transaction, kept on its row so
	// that the deposit statement, which holds that row's lock, can date
	// the next one no earlier (ledger.Memory's rule).
	2: {
		`ALTER TABLE accounts ADD COLUMN IF NOT EXISTS last_at TIMESTAMPTZ`,
	},
}

// Open connects to the database at url (a pgx connection string; pgxpool's
// pool_max_conns and friends apply), migrates the schema and seeds accounts
// 1 to n that are missing. Unless the URL sets pool_max_conns, the pool
// holds up to 8×GOMAXPROCS connections, plus a quarter of that for the
// claims: a deposit mostly waits for its commit's fsync, and PostgreSQL's
// group commit flushes all the commits waiting at that moment in one
// fsync, so more connections than cores pay off (BenchmarkPoolSize). Keep
// replicas × 1.25 × pool_max_conns under the server's max_connections.
func Open(ctx context.Context, url string, n int, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now, retention: ledger.DefaultRetention, lease: DefaultLease, sweepInterval: time.Minute, maxRetries: 8}
	for _, o := range opts {
		o(&cfg)
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		pcfg.MaxConns = int32(8 * runtime.GOMAXPROCS(0))
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{cfg: cfg, pool: pool, claims: pool}
	var version string
	if err := pool.QueryRow(ctx, `SELECT version()`).Scan(&version); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(version, "CockroachDB") {
		ccfg := pcfg.Copy()
		ccfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
		ccfg.MaxConns = max(2, pcfg.MaxConns/4) // claims do not wait for a flush
		ccfg.MinConns = min(ccfg.MinConns, ccfg.MaxConns)
		if s.claims, err = pgxpool.NewWithConfig(ctx, ccfg); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: %w", err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if err := s.seed(ctx, n); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: seed: %w", err)
	}
	s.sweeper = sweeper.Start(cfg.sweepInterval, s.Sweep)
	return s, nil
}

// Close stops the sweep and closes the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.sweeper != nil {
			s.sweeper.Stop()
		}
		if s.claims != s.pool {
			s.claims.Close()
		}
		s.pool.Close()
	})
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`
	if _, err := s.pool.Exec(ctx, create); err != nil {
		// Two replicas creating it at once: one may lose the race on the
		// catalog; the table exists now.
		if _, err2 := s.pool.Exec(ctx, create); err2 != nil {
			return err
		}
	}
	for v := 1; v < len(migrations); v++ {
		err := s.retry(ctx, func() error {
			return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
				var got int
				err := tx.QueryRow(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())
					ON CONFLICT (version) DO NOTHING RETURNING version`, v).Scan(&got)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil // applied already
				}
				if err != nil {
					return err
				}
				for _, q := range migrations[v] {
					if _, err := tx.Exec(ctx, q); err != nil {
						return fmt.Errorf("migration %d: %w", v, err)
					}
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// seedBatch rows per INSERT: 3 parameters each, well under PostgreSQL's
// 65,535 parameters per statement.
const seedBatch = 5000

// seed inserts the missing accounts with multi-row INSERTs sent in one
// pgx batch (one round trip); ON CONFLICT DO NOTHING makes it idempotent
// and safe when several replicas seed at once.
func (s *Store) seed(ctx context.Context, n int) error {
	var have int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&have); err != nil {
		return err
	}
	if have >= n {
		return nil
	}
	batch := &pgx.Batch{}
	for lo := 1; lo <= n; lo += seedBatch {
		hi := min(n, lo+seedBatch-1)
		var sb strings.Builder
		sb.WriteString(`INSERT INTO accounts (no, opening, balance) VALUES `)
		args := make([]any, 0, 3*(hi-lo+1))
		for i := lo; i <= hi; i++ {
			if i > lo {
				sb.WriteByte(',')
			}
			k := len(args)
			fmt.Fprintf(&sb, "($%d,$%d,$%d)", k+1, k+2, k+3)
			b := int64(ledger.SeedBalance(i))
			args = append(args, string(ledger.SeedAccount(i)), b, b)
		}
		sb.WriteString(` ON CONFLICT (no) DO NOTHING`)
		batch.Queue(sb.String(), args...)
	}
	return s.retry(ctx, func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			return tx.SendBatch(ctx, batch).Close()
		})
	})
}

// Balance implements bank.Ledger.
func (s *Store) Balance(ctx context.Context, acc bank.AccountNo) (bank.Money, error) {
	var b int64
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT balance FROM accounts WHERE no = $1`, string(acc)).Scan(&b)
	})
	if err != nil {
		return 0, mapErr(ctx, acc, err)
	}
	return bank.Money(b), nil
}

// Statement implements bank.Ledger: two queries in one round trip.
func (s *Store) Statement(ctx context.Context, q bank.StatementQuery) (bank.Statement, error) {
	acc := q.Account
	start, end, err := q.Month.Range()
	if err != nil {
		return bank.Statement{}, err
	}
	// Without a cursor (or with one before the month), the page starts
	// just before the month: (start, MinInt64) sorts before every
	// transaction of the month.
	afterAt, afterID := start, int64(math.MinInt64)
	if q.After != nil && !q.After.Time.Before(start) {
		afterAt, afterID = q.After.Time, q.After.ID
	}
	var st bank.Statement
	err = s.retry(ctx, func() error {
		st = bank.Statement{Account: acc, Month: q.Month}
		b := &pgx.Batch{}
		b.Queue(`SELECT a.opening,
			(SELECT t.balance_after FROM transactions t
				WHERE t.account = a.no AND t.at < $2 ORDER BY t.at DESC, t.id DESC LIMIT 1),
			(SELECT t.balance_after FROM transactions t
				WHERE t.account = a.no AND t.at < $3 ORDER BY t.at DESC, t.id DESC LIMIT 1)
			FROM accounts a WHERE a.no = $1`, string(acc), start, end)
		// A keyset page on the index (account, at, id): as cheap on the
		// last page as on the first.
		b.Queue(`SELECT id, at, amount, balance_after, idem_key FROM transactions
			WHERE account = $1 AND (at, id) > ($2, $3) AND at < $4
			ORDER BY at, id LIMIT $5`, string(acc), afterAt, afterID, end, q.Limit+1)
		br := s.pool.SendBatch(ctx, b)
		defer br.Close()
		var opening int64
		var before, closing *int64
		if err := br.QueryRow().Scan(&opening, &before, &closing); err != nil {
			return err
		}
		if before != nil {
			opening = *before
		}
		st.Opening, st.Closing = bank.Money(opening), bank.Money(opening)
		if closing != nil {
			st.Closing = bank.Money(*closing)
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			var t bank.Transaction
			if err := rows.Scan(&t.ID, &t.Time, &t.Amount, &t.BalanceAfter, &t.IdempotencyKey); err != nil {
				rows.Close()
				return err
			}
			t.Time = t.Time.UTC()
			st.Transactions = append(st.Transactions, t)
		}
		return rows.Err()
	})
	if err != nil {
		return bank.Statement{}, mapErr(ctx, acc, err)
	}
	return st, nil
}

// keyRow is an idempotency_keys row with its transaction, if applied.
type keyRow struct {
	account   string
	amount    int64
	claim     int64
	claimedAt time.Time
	expiresAt time.Time
	txID      *int64
	balance   *int64
}

// Deposit implements bank.Ledger.
func (s *Store) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	r, err := s.deposit(ctx, req)
	if err != nil {
		return bank.DepositReceipt{}, mapErr(ctx, req.Account, err)
	}
	return r, nil
}

func (s *Store) deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	now := s.cfg.now()
	// A few rounds at most: a round repeats only when the key it saw
	// expired or vanished in between.
	for range 5 {
		claim := newClaim()
		var got int64
		err := s.retry(ctx, func() error {
			return s.claims.QueryRow(ctx, `INSERT INTO idempotency_keys (key, account, amount, claim, claimed_at, expires_at)
				SELECT $1, a.no, $3, $4, $5, $6 FROM accounts a WHERE a.no = $2
				ON CONFLICT (key) DO NOTHING RETURNING claim`,
				req.IdempotencyKey, string(req.Account), int64(req.Amount), claim, now, now.Add(s.cfg.retention)).Scan(&got)
		})
		if err == nil {
			return s.apply(ctx, req, claim, now, true)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return bank.DepositReceipt{}, err
		}
		// Nothing inserted: the account does not exist or the key is taken.
		k, err := s.lookup(ctx, req.IdempotencyKey)
		if errors.Is(err, pgx.ErrNoRows) {
			if err := s.accountExists(ctx, req.Account); err != nil {
				return bank.DepositReceipt{}, err
			}
			continue // the key was deleted meanwhile; claim again
		}
		if err != nil {
			return bank.DepositReceipt{}, err
		}
		if bank.AccountNo(k.account) != req.Account || bank.Money(k.amount) != req.Amount {
			if !k.expiresAt.After(now) && k.txID != nil {
				if err := s.release(ctx, req.IdempotencyKey, k.claim); err != nil {
					return bank.DepositReceipt{}, err
				}
				continue
			}
			if err := s.accountExists(ctx, req.Account); err != nil {
				return bank.DepositReceipt{}, err
			}
			return bank.DepositReceipt{}, errKeyReuse()
		}
		switch {
		case k.txID != nil && k.expiresAt.After(now):
			return bank.DepositReceipt{TransactionID: *k.txID, Balance: bank.Money(*k.balance), Replayed: true}, nil
		case k.txID != nil: // expired: the key is free again
			if err := s.release(ctx, req.IdempotencyKey, k.claim); err != nil {
				return bank.DepositReceipt{}, err
			}
			continue
		case now.Sub(k.claimedAt) < s.cfg.lease:
			return bank.DepositReceipt{}, bank.Errorf(bank.InFlight, "a deposit with this idempotency key is still being applied")
		default:
			// Pending past its lease: the claimer died or is stuck. Take
			// it over with the same claim id (see the package comment).
			return s.apply(ctx, req, k.claim, now, false)
		}
	}
	return bank.DepositReceipt{}, bank.Errorf(bank.Unavailable, "idempotency key %q kept changing; retry", req.IdempotencyKey)
}

// apply runs the deposit statement for claim. owner says whether this call
// made the claim (and so may release it when the deposit is refused).
func (s *Store) apply(ctx context.Context, req bank.DepositRequest, claim int64, now time.Time, owner bool) (bank.DepositReceipt, error) {
	var r bank.DepositReceipt
	err := s.retry(ctx, func() error {
		// last_at is updated under the row lock, from the row's latest
		// version, so a transaction is never dated before the account's
		// previous one, even when replicas' clocks disagree.
		return s.pool.QueryRow(ctx, `WITH a AS (
				UPDATE accounts SET balance = balance + $2, last_at = GREATEST(COALESCE(last_at, $4), $4)
				WHERE no = $1 RETURNING balance, last_at
			)
			INSERT INTO transactions (claim, account, at, amount, balance_after, idem_key)
			SELECT $3, $1, a.last_at, $2, a.balance, $5 FROM a
			RETURNING id, balance_after`,
			string(req.Account), int64(req.Amount), claim, now, req.IdempotencyKey).Scan(&r.TransactionID, &r.Balance)
	})
	if err == nil {
		return r, nil
	}
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "23505": // the claim was applied by someone else
		k, lerr := s.lookup(ctx, req.IdempotencyKey)
		if lerr != nil || k.txID == nil || k.claim != claim {
			return bank.DepositReceipt{}, bank.Errorf(bank.InFlight, "a deposit with this idempotency key is still being applied")
		}
		return bank.DepositReceipt{TransactionID: *k.txID, Balance: bank.Money(*k.balance), Replayed: true}, nil
	case errors.As(err, &pe) && pe.Code == "22003": // bigint out of range
		err = bank.Errorf(bank.InvalidArgument, "deposit of %d cents would overflow the balance", int64(req.Amount))
	case errors.Is(err, pgx.ErrNoRows):
		err = bank.Errorf(bank.NotFound, "account %s does not exist", req.Account)
	case errors.As(err, &pe):
		// The server refused the statement: it did not commit.
	default:
		// Connection lost or caller gone: the outcome is in doubt, so the
		// key stays pending until a repeat takes it over.
		return bank.DepositReceipt{}, err
	}
	if owner {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := s.release(rctx, req.IdempotencyKey, claim); rerr != nil {
			return bank.DepositReceipt{}, errors.Join(err, rerr)
		}
	}
	return bank.DepositReceipt{}, err
}

func (s *Store) lookup(ctx context.Context, key string) (keyRow, error) {
	var k keyRow
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT k.account, k.amount, k.claim, k.claimed_at, k.expires_at, t.id, t.balance_after
			FROM idempotency_keys k LEFT JOIN transactions t ON t.claim = k.claim WHERE k.key = $1`, key).
			Scan(&k.account, &k.amount, &k.claim, &k.claimedAt, &k.expiresAt, &k.txID, &k.balance)
	})
	return k, err
}

// release deletes the key if claim still owns it.
func (s *Store) release(ctx context.Context, key string, claim int64) error {
	return s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE key = $1 AND claim = $2`, key, claim)
		return err
	})
}

func (s *Store) accountExists(ctx context.Context, acc bank.AccountNo) error {
	var one int
	return s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT 1 FROM accounts WHERE no = $1`, string(acc)).Scan(&one)
	})
}

func errKeyReuse() error {
	return bank.Errorf(bank.IdempotencyKeyReuse, "idempotency key was used for a different deposit")
}

// newClaim returns a random positive claim id.
func newClaim() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return mrand.Int64()
	}
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// Sweep deletes the keys that expired before now, 1,000 per statement, and
// returns how many it deleted. Any replica may run it at any time.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.retry(ctx, func() error {
			tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE key IN
				(SELECT key FROM idempotency_keys WHERE expires_at <= $1 LIMIT 1000)`, s.cfg.now())
			n = tag.RowsAffected()
			return err
		})
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}

// retry runs f again when it fails with a serialization failure (40001) or
// a deadlock (40P01), up to maxRetries times with jittered exponential
// backoff, never past ctx.
func (s *Store) retry(ctx context.Context, f func() error) error {
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		err := f()
		var pe *pgconn.PgError
		if err == nil || attempt >= s.cfg.maxRetries || !errors.As(err, &pe) || (pe.Code != "40001" && pe.Code != "40P01") {
			return err
		}
		d := time.Duration(mrand.Int64N(int64(backoff))) + backoff/2
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// mapErr classifies a database error as a bank error.
func mapErr(ctx context.Context, acc bank.AccountNo, err error) error {
	var (
		be *bank.Error
		pe *pgconn.PgError
	)
	switch {
	case errors.As(err, &be):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return bank.Errorf(bank.NotFound, "account %s does not exist", acc)
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return bank.FromContext(ctx, err)
	case errors.As(err, &pe):
		if pe.Code == "40001" || pe.Code == "40P01" || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08") || pe.Code == "53300" {
			return bank.Wrap(bank.Unavailable, fmt.Errorf("postgres: %w", err)) // retryable on the client
		}
		return bank.Wrap(bank.Internal, fmt.Errorf("postgres: %w", err))
	}
	// Not an answer from the server: the connection failed.
	return bank.Wrap(bank.Unavailable, fmt.Errorf("postgres: %w", err))
}
