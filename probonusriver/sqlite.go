package probonusriver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// NewSQLite makes Credits on an SQLite database the app opened itself (driver "sqlite",
// modernc.org/sqlite): the app enqueues in its own *sql.Tx. River's SQLite driver is early-stage
// by River's own account; it wants one connection (db.SetMaxOpenConns(1)) and WAL. OpenSQLite
// sets all of that up.
func NewSQLite(db *sql.DB, cfg Config) (*Credits[*sql.Tx], error) {
	return New(riversqlite.New(db), cfg)
}

// SQLite is Credits on an SQLite file that OpenSQLite opened: DB is the app's database too,
// for its own tables and the transactions it enqueues in. DB has one connection (SQLite writes
// one at a time): while a transaction is open, go through it, not through DB (a call on DB would
// wait for the transaction's own connection), and keep it short (the workers wait for it too).
type SQLite struct {
	*Credits[*sql.Tx]
	DB *sql.DB
}

// OpenSQLite is the embedded default, for one machine: it opens (or creates) the file at path
// in WAL mode with full syncs (a committed credit survives a power cut), runs River's migrations
// and starts the workers. ctx bounds the opening only; Close stops the workers and closes the file. Processes sharing the file share
// the queue; pods with a file each do not (see the package documentation).
func OpenSQLite(ctx context.Context, path string, cfg Config) (*SQLite, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("probonusriver: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // SQLite writes one at a time; River's driver asks for one connection
	s, err := openSQLite(ctx, db, cfg)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

func openSQLite(ctx context.Context, db *sql.DB, cfg Config) (*SQLite, error) {
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("probonusriver: opening the SQLite file: %w", err)
	}
	c, err := NewSQLite(db, cfg)
	if err != nil {
		return nil, err
	}
	if err := c.Migrate(ctx); err != nil {
		return nil, err
	}
	if !c.cfg.InsertOnly {
		// ctx is for opening: the workers run until Close, not until a caller's timeout.
		if err := c.Start(context.WithoutCancel(ctx)); err != nil {
			return nil, err
		}
	}
	return &SQLite{Credits: c, DB: db}, nil
}

// sqliteDSN: WAL (readers beside the writer, another process on the same file), full syncs,
// a wait instead of SQLITE_BUSY when another process writes, and transactions that take the
// write lock when they begin (a deferred one that upgrades can fail with SQLITE_BUSY at once).
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Close stops the workers (see Credits.Stop) and closes the database.
func (s *SQLite) Close(ctx context.Context) error {
	var err error
	if !s.cfg.InsertOnly {
		err = s.Stop(ctx)
	}
	return errors.Join(err, s.DB.Close())
}
