package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaTooNew is returned by Open for a database whose schema was
// migrated by a newer binary than this one: run the newer binary, or
// upgrade this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary knows")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string // file name, for errors
	sql     string
}

// migrationName is NNNN_words.sql.
var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// loadMigrations reads migrations/*.sql from fsys: numbered 0001, 0002, …
// without gaps or repeats, returned in order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		m := migrationName.FindStringSubmatch(path.Base(name))
		if m == nil {
			return nil, fmt.Errorf("migration %s: name is not NNNN_words.sql", name)
		}
		v, _ := strconv.Atoi(m[1])
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: path.Base(name), sql: string(data)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (numbered from 0001 without gaps or repeats)", m.name, m.version, i+1)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no migrations")
	}
	return out, nil
}

// lockMigrate is the key of the advisory lock that migrate holds: "anshim"
// and 1. Advisory locks are scoped to the database.
const lockMigrate int64 = 0x616e7368696d0001

// migrate brings the database's schema up to the last of migs, in one
// transaction under an advisory lock so that servers starting together
// apply each migration once. It returns the versions it applied (none
// when the schema was current) and refuses, with ErrSchemaTooNew, a
// schema newer than migs.
func migrate(ctx context.Context, pool *pgxpool.Pool, migs []migration) ([]int, error) {
	var applied []int
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		applied = nil
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockMigrate); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
		have, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if n := len(have); n > 0 && int(have[n-1]) > len(migs) {
			return fmt.Errorf("%w: the database is at version %d, this binary knows versions up to %d", ErrSchemaTooNew, have[n-1], len(migs))
		}
		for _, m := range migs {
			if slices.Contains(have, int32(m.version)) {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", m.version); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			applied = append(applied, m.version)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}
