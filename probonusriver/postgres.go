package probonusriver

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// NewPostgres makes Credits on a PostgreSQL pool, the fleet's database: every process of the
// fleet enqueues in its own transactions (pgx.Tx) and works the one queue. Run River's
// migrations with Migrate, or with the app's own migration tool (rivermigrate, the river CLI),
// then Start.
func NewPostgres(pool *pgxpool.Pool, cfg Config) (*Credits[pgx.Tx], error) {
	return New(riverpgxv5.New(pool), cfg)
}
