package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/anshim/anshim/central/store"
)

// The named API tokens (0008_api_tokens.sql):
//
//	api_tokens   name (primary key), role, hash (unique), created, created_by, revoked (NULL while valid)

const apiTokenColumns = "name, role, hash, created, created_by, revoked"

// scanAPIToken scans a row of apiTokenColumns.
func scanAPIToken(row pgx.Row) (store.APIToken, error) {
	var t store.APIToken
	var hash []byte
	var revoked *time.Time
	if err := row.Scan(&t.Name, &t.Role, &hash, &t.Created, &t.CreatedBy, &revoked); err != nil {
		return store.APIToken{}, err
	}
	if len(hash) != len(t.Hash) {
		return store.APIToken{}, fmt.Errorf("token %s: hash of %d bytes", t.Name, len(hash))
	}
	copy(t.Hash[:], hash)
	t.Created = t.Created.UTC()
	if revoked != nil {
		t.Revoked = revoked.UTC()
	}
	return t, nil
}

// AddAPIToken implements store.APITokens.
func (s *Store) AddAPIToken(ctx context.Context, t store.APIToken) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: add API token %s: %w", t.Name, err)
	}
	var revoked *time.Time
	if !t.Revoked.IsZero() {
		revoked = &t.Revoked
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO api_tokens ("+apiTokenColumns+") VALUES ($1, $2, $3, $4, $5, $6)",
		t.Name, t.Role, t.Hash[:], t.Created, t.CreatedBy, revoked)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		switch pe.ConstraintName {
		case "api_tokens_pkey":
			err = fmt.Errorf("name: %w", store.ErrExists)
		default:
			err = fmt.Errorf("hash: %w", store.ErrExists)
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: add API token %s: %w", t.Name, err)
	}
	return nil
}

// APITokenByHash implements store.APITokens.
func (s *Store) APITokenByHash(ctx context.Context, h [32]byte) (store.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, "SELECT "+apiTokenColumns+" FROM api_tokens WHERE hash = $1", h[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("pgstore: API token: %w", err)
	}
	return t, nil
}

// APITokens implements store.APITokens.
func (s *Store) APITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+apiTokenColumns+" FROM api_tokens ORDER BY name COLLATE \"C\"")
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.APIToken, error) { return scanAPIToken(row) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: API tokens: %w", err)
	}
	return nilIfEmpty(out), nil
}

// RevokeAPIToken implements store.APITokens: one statement sets the time
// unless one is set already.
func (s *Store) RevokeAPIToken(ctx context.Context, name string, now time.Time) (store.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `UPDATE api_tokens SET revoked = COALESCE(revoked, $2)
		WHERE name = $1 RETURNING `+apiTokenColumns, name, now))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("pgstore: revoke API token %s: %w", name, err)
	}
	return t, nil
}
