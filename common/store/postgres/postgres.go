// Package postgres is the shared ledger: several stateless server replicas
// use one PostgreSQL database through github.com/jackc/pgx/v5's pool.
//
// Tables: accounts (balance per account), transactions (one row per applied
// deposit, with the fencing token that applied it), idempotency_keys (one
// row per key: the request's fingerprint, the fencing token of the replica
// that holds the key, its expiry; the stored receipt is the transaction
// row that token produced).
//
// A deposit is two statements, each its own transaction:
//
//  1. The claim: INSERT INTO idempotency_keys ... ON CONFLICT (key) DO
//     NOTHING, with a fresh fencing token from the sequence
//     fencing_tokens. It commits at once, so every replica sees the key as
//     in flight from then on. If the key was already there, its row
//     decides: another request under the key is IdempotencyKeyReuse, a
//     finished one is replayed from its transaction row, a pending one is
//     InFlight.
//  2. The deposit: one statement that locks the key's row if it still
//     holds this replica's token (the fence), updates the balance and
//     inserts the transaction row carrying the token. A replica whose token
//     is no longer the key's current one changes nothing and is told so.
//
// If the replica that claimed a key dies or stalls between 1 and 2 (or
// while 2 is in doubt), the key stays pending. After the lease (WithLease,
// 5 s by default) a repeat of the same request takes it over: under the
// key row's lock it looks for a transaction of the old token (the first
// attempt did commit: the repeat returns the stored receipt) and otherwise
// gives the key a new, larger token and applies it. The claim is a lease,
// and the token is what makes the lease safe (a fencing token, in
// Kleppmann's terms): a holder paused past its lease (a GC pause, SIGSTOP,
// a VM migration) that wakes up and runs step 2 with its old token finds
// the key's row carrying the new one and is refused. transactions.claim is
// also UNIQUE, so a token is applied at most once. WithoutFence turns the
// check off, for the fencing experiment only (cluster fencing).
//
// Time. Key expiry, the lease and transaction times are decided by one
// clock, the database's (now()), by default: with each replica's own, a
// replica whose clock runs ahead of another's by more than the retention
// takes a retried key for expired and applies the deposit again, and
// replicas date transactions out of their real order. WithClock makes this
// replica's clock decide instead (tests inject a fake one; cluster clocks
// shows the double deposit). Either way an account's transaction is never
// dated before its previous one (accounts.last_at).
//
// Only SQL that CockroachDB also accepts is used (no advisory locks, no
// DELETE ... LIMIT, no PL/pgSQL), and serialization (40001) and deadlock
// (40P01) failures are retried inside the store, boundedly.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// now is the replica's clock; nil: the database's decides.
	now           func() time.Time
	noFence       bool
	claimHook     func(ctx context.Context, key string, token int64)
	logger        *slog.Logger
	retention     time.Duration
	lease         time.Duration
	sweepInterval time.Duration
	maxRetries    int
}

// WithClock makes now, this replica's clock, date transactions and decide
// key expiry and leases instead of the database's clock (the default).
// Tests inject a fake clock; the clocks experiment a skewed one, to show
// why one clock must decide for every replica (see the package comment).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithoutFence turns the fencing check off: a replica applies its claim
// even when its fencing token is no longer the key's, so a replica paused
// past its lease applies a deposit that another has taken over and
// applied. For the fencing experiment only (cluster fencing); no server
// flag reaches it.
func WithoutFence() Option { return func(c *config) { c.noFence = true } }

// WithClaimHook calls hook after this replica claimed a key (the claim
// committed) and before it applies the deposit: the moment at which the
// fencing experiment pauses a replica.
func WithClaimHook(hook func(ctx context.Context, key string, token int64)) Option {
	return func(c *config) { c.claimHook = hook }
}

// WithLogger sets where the store logs a replica refused by the fence
// (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

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
	// Fencing tokens: a claim, and each takeover of it, takes the next
	// number, so a newer holder's token is larger (the claim column of
	// both tables holds it; the claims made before were random numbers).
	3: {
		`CREATE SEQUENCE IF NOT EXISTS fencing_tokens`,
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
	cfg := config{retention: ledger.DefaultRetention, lease: DefaultLease, sweepInterval: time.Minute, maxRetries: 8}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
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

// keyRow is an idempotency_keys row with its transaction, if applied, and
// the database's clock when it was read.
type keyRow struct {
	account   string
	amount    int64
	token     int64
	claimedAt time.Time
	expiresAt time.Time
	txID      *int64
	balance   *int64
	dbNow     time.Time
}

// Deposit implements bank.Ledger.
func (s *Store) Deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	r, err := s.deposit(ctx, req)
	if err != nil {
		return bank.DepositReceipt{}, mapErr(ctx, req.Account, err)
	}
	return r, nil
}

// replicaNow is this replica's clock reading, or nil when the database's
// clock decides (the statements then use now() in its place).
func (s *Store) replicaNow() *time.Time {
	if s.cfg.now == nil {
		return nil
	}
	t := s.cfg.now()
	return &t
}

// errTakenOver: the key's token changed under a takeover; look again.
var errTakenOver = errors.New("postgres: the claim was taken over meanwhile")

func (s *Store) deposit(ctx context.Context, req bank.DepositRequest) (bank.DepositReceipt, error) {
	// A few rounds at most: a round repeats only when the key it saw
	// expired, vanished or was taken over in between.
	for range 5 {
		now := s.replicaNow()
		var token int64
		err := s.retry(ctx, func() error {
			return s.claims.QueryRow(ctx, `INSERT INTO idempotency_keys (key, account, amount, claim, claimed_at, expires_at)
				SELECT $1, a.no, $3, nextval('fencing_tokens'), n.at, n.at + $5::bigint * interval '1 microsecond'
				FROM accounts a, (SELECT COALESCE($4::timestamptz, now()) AS at) n WHERE a.no = $2
				ON CONFLICT (key) DO NOTHING RETURNING claim`,
				req.IdempotencyKey, string(req.Account), int64(req.Amount), now, s.cfg.retention.Microseconds()).Scan(&token)
		})
		if err == nil {
			if s.cfg.claimHook != nil {
				s.cfg.claimHook(ctx, req.IdempotencyKey, token)
			}
			return s.apply(ctx, req, token, now, true)
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
		// Expiry and the lease are judged by one clock: the database's,
		// unless this replica's was given (WithClock).
		at := k.dbNow
		if now != nil {
			at = *now
		}
		if bank.AccountNo(k.account) != req.Account || bank.Money(k.amount) != req.Amount {
			if !k.expiresAt.After(at) && k.txID != nil {
				if err := s.release(ctx, req.IdempotencyKey, k.token); err != nil {
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
		case k.txID != nil && k.expiresAt.After(at):
			return bank.DepositReceipt{TransactionID: *k.txID, Balance: bank.Money(*k.balance), Replayed: true}, nil
		case k.txID != nil: // expired: the key is free again
			if err := s.release(ctx, req.IdempotencyKey, k.token); err != nil {
				return bank.DepositReceipt{}, err
			}
			continue
		case at.Sub(k.claimedAt) < s.cfg.lease:
			return bank.DepositReceipt{}, bank.Errorf(bank.InFlight, "a deposit with this idempotency key is still being applied")
		default:
			// Pending past its lease: the holder died or is stuck. Take
			// the key over under a new token (see the package comment).
			token, r, err := s.takeover(ctx, req.IdempotencyKey, k.token, now)
			switch {
			case errors.Is(err, errTakenOver):
				continue
			case err != nil:
				return bank.DepositReceipt{}, err
			case r != nil:
				return *r, nil
			}
			s.cfg.logger.Info("took over an idempotency key past its lease", "key", req.IdempotencyKey,
				"stale_token", k.token, "fencing_token", token)
			return s.apply(ctx, req, token, now, false)
		}
	}
	return bank.DepositReceipt{}, bank.Errorf(bank.Unavailable, "idempotency key %q kept changing; retry", req.IdempotencyKey)
}

// takeover gives the pending key, held by the stale token old, a new
// token, or returns the receipt of old's deposit if that did commit. The
// key row's lock orders it with the stale holder's deposit statement,
// which takes the same lock: if that committed first, the lookup (a
// statement of its own, so with a fresh snapshot) sees its transaction;
// if the takeover commits first, the stale holder's fence finds the new
// token.
func (s *Store) takeover(ctx context.Context, key string, old int64, now *time.Time) (int64, *bank.DepositReceipt, error) {
	var (
		token int64
		r     *bank.DepositReceipt
	)
	err := s.retry(ctx, func() error {
		token, r = 0, nil
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var got int64
			err := tx.QueryRow(ctx, `SELECT claim FROM idempotency_keys WHERE key = $1 AND claim = $2 FOR UPDATE`, key, old).Scan(&got)
			if errors.Is(err, pgx.ErrNoRows) {
				return errTakenOver
			}
			if err != nil {
				return err
			}
			var id, balance int64
			err = tx.QueryRow(ctx, `SELECT id, balance_after FROM transactions WHERE claim = $1`, old).Scan(&id, &balance)
			if err == nil {
				r = &bank.DepositReceipt{TransactionID: id, Balance: bank.Money(balance), Replayed: true}
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			return tx.QueryRow(ctx, `UPDATE idempotency_keys SET claim = nextval('fencing_tokens'), claimed_at = COALESCE($2::timestamptz, now())
				WHERE key = $1 RETURNING claim`, key, now).Scan(&token)
		})
	})
	return token, r, err
}

// The deposit statement, with and without the fence. The fence locks the
// key's row only if it still carries this replica's token; without that
// row, the balance is not updated and nothing is inserted. last_at is
// updated under the account row's lock, from the row's latest version,
// so a transaction is never dated before the account's previous one,
// even when replicas' clocks disagree.
const (
	applyFenced = `WITH k AS (
			SELECT 1 FROM idempotency_keys WHERE key = $5 AND claim = $3 FOR UPDATE
		), n AS (
			SELECT COALESCE($4::timestamptz, now()) AS at
		), a AS (
			UPDATE accounts SET balance = balance + $2, last_at = GREATEST(COALESCE(last_at, n.at), n.at)
			FROM n WHERE no = $1 AND EXISTS (SELECT 1 FROM k) RETURNING balance, last_at
		)
		INSERT INTO transactions (claim, account, at, amount, balance_after, idem_key)
		SELECT $3, $1, a.last_at, $2, a.balance, $5 FROM a
		RETURNING id, balance_after`
	applyUnfenced = `WITH n AS (
			SELECT COALESCE($4::timestamptz, now()) AS at
		), a AS (
			UPDATE accounts SET balance = balance + $2, last_at = GREATEST(COALESCE(last_at, n.at), n.at)
			FROM n WHERE no = $1 RETURNING balance, last_at
		)
		INSERT INTO transactions (claim, account, at, amount, balance_after, idem_key)
		SELECT $3, $1, a.last_at, $2, a.balance, $5 FROM a
		RETURNING id, balance_after`
)

// apply runs the deposit statement under token. owner says whether this
// call made the claim (and so may release it when the deposit is refused).
func (s *Store) apply(ctx context.Context, req bank.DepositRequest, token int64, now *time.Time, owner bool) (bank.DepositReceipt, error) {
	var r bank.DepositReceipt
	q := applyFenced
	if s.cfg.noFence {
		q = applyUnfenced
	}
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, q, string(req.Account), int64(req.Amount), token, now, req.IdempotencyKey).Scan(&r.TransactionID, &r.Balance)
	})
	if err == nil {
		return r, nil
	}
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "23505": // the token was applied by someone else
		k, lerr := s.lookup(ctx, req.IdempotencyKey)
		if lerr != nil || k.txID == nil || k.token != token {
			return bank.DepositReceipt{}, bank.Errorf(bank.InFlight, "a deposit with this idempotency key is still being applied")
		}
		return bank.DepositReceipt{TransactionID: *k.txID, Balance: bank.Money(*k.balance), Replayed: true}, nil
	case errors.As(err, &pe) && pe.Code == "22003": // bigint out of range
		err = bank.Errorf(bank.InvalidArgument, "deposit of %d cents would overflow the balance", int64(req.Amount))
	case errors.Is(err, pgx.ErrNoRows):
		// The account exists (the claim checked it) unless the key's row
		// is gone or holds another token: then the fence refused us.
		k, lerr := s.lookup(ctx, req.IdempotencyKey)
		if lerr != nil && !errors.Is(lerr, pgx.ErrNoRows) {
			return bank.DepositReceipt{}, lerr
		}
		if lerr == nil && k.token == token {
			err = bank.Errorf(bank.NotFound, "account %s does not exist", req.Account)
			break
		}
		current := int64(0)
		if lerr == nil {
			current = k.token
		}
		s.cfg.logger.Warn("fenced: stale fencing token refused; nothing applied", "key", req.IdempotencyKey,
			"fencing_token", token, "current_token", current)
		return bank.DepositReceipt{}, bank.Errorf(bank.InFlight,
			"fenced: this replica's claim on the idempotency key (fencing token %d) was taken over after its lease (current token %d); nothing applied here, retry for the receipt", token, current)
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
		if rerr := s.release(rctx, req.IdempotencyKey, token); rerr != nil {
			return bank.DepositReceipt{}, errors.Join(err, rerr)
		}
	}
	return bank.DepositReceipt{}, err
}

func (s *Store) lookup(ctx context.Context, key string) (keyRow, error) {
	var k keyRow
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT k.account, k.amount, k.claim, k.claimed_at, k.expires_at, t.id, t.balance_after, now()
			FROM idempotency_keys k LEFT JOIN transactions t ON t.claim = k.claim WHERE k.key = $1`, key).
			Scan(&k.account, &k.amount, &k.token, &k.claimedAt, &k.expiresAt, &k.txID, &k.balance, &k.dbNow)
	})
	return k, err
}

// release deletes the key if token still holds it.
func (s *Store) release(ctx context.Context, key string, token int64) error {
	return s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE key = $1 AND claim = $2`, key, token)
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

// Sweep deletes the keys that expired before now, 1,000 per statement, and
// returns how many it deleted. Any replica may run it at any time.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.retry(ctx, func() error {
			tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE key IN
				(SELECT key FROM idempotency_keys WHERE expires_at <= COALESCE($1::timestamptz, now()) LIMIT 1000)`, s.replicaNow())
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
