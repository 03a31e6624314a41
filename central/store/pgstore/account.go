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

// The web accounts (0010_accounts.sql):
//
//	accounts        name (primary key), role, phone, password_hash, created, created_by, disabled, failures, locked_until
//	account_venues  (account, venue): the venues a business account owns
//	web_sessions    hash (primary key), account, csrf, created, last_seen
//
// A trigger on accounts and api_tokens keeps the one namespace of names
// (store.Account).

const accountColumns = `name, role, phone, password_hash, created, created_by, disabled, failures, locked_until,
	ARRAY(SELECT venue FROM account_venues WHERE account = accounts.name ORDER BY venue COLLATE "C")`

// scanAccount scans a row of accountColumns.
func scanAccount(row pgx.Row) (store.Account, error) {
	var a store.Account
	var disabled, locked *time.Time
	if err := row.Scan(&a.Name, &a.Role, &a.Phone, &a.PasswordHash, &a.Created, &a.CreatedBy, &disabled, &a.Failures, &locked, &a.Venues); err != nil {
		return store.Account{}, err
	}
	a.Created = a.Created.UTC()
	if disabled != nil {
		a.Disabled = disabled.UTC()
	}
	if locked != nil {
		a.LockedUntil = locked.UTC()
	}
	a.Venues = nilIfEmpty(a.Venues)
	return a, nil
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// AddAccount implements store.Accounts.
func (s *Store) AddAccount(ctx context.Context, a store.Account) error {
	err := s.update(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO accounts (name, role, phone, password_hash, created, created_by, disabled, failures, locked_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			a.Name, a.Role, a.Phone, a.PasswordHash, a.Created, a.CreatedBy, nullTime(a.Disabled), a.Failures, nullTime(a.LockedUntil))
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			if pe.ConstraintName == "accounts_token_name" {
				return fmt.Errorf("name: %w (%s)", store.ErrExists, pe.Message)
			}
			return fmt.Errorf("name: %w", store.ErrExists)
		}
		if err != nil {
			return err
		}
		for _, v := range a.Venues {
			if _, err := tx.Exec(ctx, "INSERT INTO account_venues (account, venue) VALUES ($1, $2) ON CONFLICT DO NOTHING", a.Name, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: add account %s: %w", a.Name, err)
	}
	return nil
}

// Account implements store.Accounts.
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("pgstore: account %s: %w", name, err)
	}
	return a, nil
}

// Accounts implements store.Accounts.
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+accountColumns+" FROM accounts ORDER BY name COLLATE \"C\"")
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Account, error) { return scanAccount(row) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: accounts: %w", err)
	}
	return nilIfEmpty(out), nil
}

// DisableAccount implements store.Accounts: the account, its sessions and
// the API token of its name in one transaction.
func (s *Store) DisableAccount(ctx context.Context, name string, now time.Time) (store.Account, error) {
	var a store.Account
	err := s.update(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE accounts SET disabled = COALESCE(disabled, $2) WHERE name = $1", name, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, "DELETE FROM web_sessions WHERE account = $1", name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked = COALESCE(revoked, $2) WHERE name = $1", name, now); err != nil {
			return err
		}
		a, err = scanAccount(tx.QueryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE name = $1", name))
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("pgstore: disable account %s: %w", name, err)
	}
	return a, nil
}

// AddAccountVenue implements store.Accounts.
func (s *Store) AddAccountVenue(ctx context.Context, name, venue string) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO account_venues (account, venue) VALUES ($1, $2) ON CONFLICT DO NOTHING", name, venue)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" { // foreign key: no such account
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("pgstore: account %s: add venue %s: %w", name, venue, err)
	}
	return nil
}

// RecordSignIn implements store.Accounts: one statement.
func (s *Store) RecordSignIn(ctx context.Context, name string, ok bool, now time.Time, maxFailures int, lockFor time.Duration) (store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `UPDATE accounts SET
			failures = CASE WHEN $2 OR failures + 1 >= $3 THEN 0 ELSE failures + 1 END,
			locked_until = CASE WHEN NOT $2 AND failures + 1 >= $3 THEN $4 ELSE locked_until END
		WHERE name = $1 RETURNING `+accountColumns, name, ok, maxFailures, now.Add(lockFor)))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("pgstore: account %s: record sign-in: %w", name, err)
	}
	return a, nil
}

// AddSession implements store.Accounts.
func (s *Store) AddSession(ctx context.Context, ss store.Session) error {
	_, err := s.pool.Exec(ctx, "INSERT INTO web_sessions (hash, account, csrf, created, last_seen) VALUES ($1, $2, $3, $4, $5)",
		ss.Hash[:], ss.Account, ss.CSRF, ss.Created, ss.LastSeen)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			err = fmt.Errorf("hash: %w", store.ErrExists)
		case "23503":
			err = fmt.Errorf("account %s: %w", ss.Account, store.ErrNotFound)
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: add session of %s: %w", ss.Account, err)
	}
	return nil
}

// Session implements store.Accounts.
func (s *Store) Session(ctx context.Context, h [32]byte) (store.Session, error) {
	ss := store.Session{Hash: h}
	err := s.pool.QueryRow(ctx, "SELECT account, csrf, created, last_seen FROM web_sessions WHERE hash = $1", h[:]).
		Scan(&ss.Account, &ss.CSRF, &ss.Created, &ss.LastSeen)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("pgstore: session: %w", err)
	}
	ss.Created, ss.LastSeen = ss.Created.UTC(), ss.LastSeen.UTC()
	return ss, nil
}

// TouchSession implements store.Accounts.
func (s *Store) TouchSession(ctx context.Context, h [32]byte, now time.Time) error {
	tag, err := s.pool.Exec(ctx, "UPDATE web_sessions SET last_seen = GREATEST(last_seen, $2) WHERE hash = $1", h[:], now)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("pgstore: touch session: %w", err)
	}
	return nil
}

// DeleteSession implements store.Accounts.
func (s *Store) DeleteSession(ctx context.Context, h [32]byte) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM web_sessions WHERE hash = $1", h[:]); err != nil {
		return fmt.Errorf("pgstore: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions implements store.Accounts.
func (s *Store) DeleteExpiredSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM web_sessions WHERE last_seen < $1 OR created < $2", idleBefore, createdBefore)
	if err != nil {
		return 0, fmt.Errorf("pgstore: delete expired sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
