package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/anshim/anshim/central/store"
)

// The visitor app (0015_app.sql):
//
//	app_codes      phone key (primary key), hash, consent, lang, sent, expires, tries
//	app_accounts   person (primary key), record (JSON store.AppAccount)
//	app_sessions   token hash (primary key), person, created, last_used, expires
//	app_notices    person, id (primary key), sent, record (JSON store.AppNotice)
//	app_receipts   client key (primary key), device, seq, time, record (JSON)
//
// and its rate limits (0016_app_limits.sql):
//
//	app_limits     limit key (primary key), full_at

func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// PutAppCode implements store.Apps.
func (s *Store) PutAppCode(ctx context.Context, c store.AppCode) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: put app code: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO app_codes (phone, hash, consent, lang, sent, expires, tries)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (phone) DO UPDATE SET hash = EXCLUDED.hash, consent = EXCLUDED.consent, lang = EXCLUDED.lang,
			sent = EXCLUDED.sent, expires = EXCLUDED.expires, tries = EXCLUDED.tries`,
		c.Phone[:], c.Hash[:], c.Consent, c.Lang, c.Sent, c.Expires, c.Tries)
	if err != nil {
		return fmt.Errorf("pgstore: put app code: %w", err)
	}
	return nil
}

// TryAppCode implements store.Apps: the row locked, checked and updated
// or deleted in one transaction.
func (s *Store) TryAppCode(ctx context.Context, phone, hash [32]byte, now time.Time, maxTries int, consume bool) (store.AppCode, error) {
	var out store.AppCode
	var answer error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		answer = nil
		var h []byte
		c := store.AppCode{Phone: phone}
		err := tx.QueryRow(ctx, "SELECT hash, consent, lang, sent, expires, tries FROM app_codes WHERE phone = $1 FOR UPDATE", phone[:]).
			Scan(&h, &c.Consent, &c.Lang, &c.Sent, &c.Expires, &c.Tries)
		if errors.Is(err, pgx.ErrNoRows) {
			answer = store.ErrCodeExpired
			return nil
		}
		if err != nil {
			return err
		}
		del := func() error {
			_, err := tx.Exec(ctx, "DELETE FROM app_codes WHERE phone = $1", phone[:])
			return err
		}
		if !now.Before(c.Expires) || c.Tries >= maxTries {
			answer = store.ErrCodeExpired
			return del()
		}
		if string(h) != string(hash[:]) {
			c.Tries++
			answer = &store.CodeWrongError{Left: maxTries - c.Tries}
			if c.Tries >= maxTries {
				return del()
			}
			_, err := tx.Exec(ctx, "UPDATE app_codes SET tries = $2 WHERE phone = $1", phone[:], c.Tries)
			return err
		}
		c.Hash = hash
		out = c
		if consume {
			return del()
		}
		return nil
	})
	if err != nil {
		return store.AppCode{}, fmt.Errorf("pgstore: try app code: %w", err)
	}
	if answer != nil {
		return store.AppCode{}, answer
	}
	return out, nil
}

// PutAppAccount implements store.Apps.
func (s *Store) PutAppAccount(ctx context.Context, a store.AppAccount) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: put app account of %s: %w", a.Person, err)
	}
	rec, err := json.Marshal(a)
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO app_accounts (person, record) VALUES ($1, $2)
			ON CONFLICT (person) DO UPDATE SET record = EXCLUDED.record`, a.Person, rec)
	}
	if err != nil {
		return fmt.Errorf("pgstore: put app account of %s: %w", a.Person, err)
	}
	return nil
}

// AppAccount implements store.Apps.
func (s *Store) AppAccount(ctx context.Context, person string) (store.AppAccount, error) {
	var rec []byte
	var a store.AppAccount
	err := s.pool.QueryRow(ctx, "SELECT record FROM app_accounts WHERE person = $1", person).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		err = json.Unmarshal(rec, &a)
	}
	if err != nil {
		return store.AppAccount{}, fmt.Errorf("pgstore: app account of %s: %w", person, err)
	}
	return a, nil
}

// AddAppSession implements store.Apps.
func (s *Store) AddAppSession(ctx context.Context, as store.AppSession) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: add app session: %w", err)
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO app_sessions (hash, person, created, last_used, expires) VALUES ($1, $2, $3, $4, $5)",
		as.Hash[:], as.Person, as.Created, as.LastUsed, as.Expires)
	if uniqueViolation(err) {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("pgstore: add app session: %w", err)
	}
	return nil
}

// AppSession implements store.Apps.
func (s *Store) AppSession(ctx context.Context, hash [32]byte, now time.Time) (store.AppSession, error) {
	as := store.AppSession{Hash: hash}
	err := s.pool.QueryRow(ctx, "SELECT person, created, last_used, expires FROM app_sessions WHERE hash = $1 AND expires > $2", hash[:], now).
		Scan(&as.Person, &as.Created, &as.LastUsed, &as.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.AppSession{}, fmt.Errorf("pgstore: app session: %w", err)
	}
	return as, nil
}

// TouchAppSession implements store.Apps.
func (s *Store) TouchAppSession(ctx context.Context, hash [32]byte, now, expires time.Time) error {
	tag, err := s.pool.Exec(ctx, "UPDATE app_sessions SET last_used = $2, expires = $3 WHERE hash = $1", hash[:], now, expires)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("pgstore: touch app session: %w", err)
	}
	return nil
}

// EndAppSessions implements store.Apps.
func (s *Store) EndAppSessions(ctx context.Context, person string, keep [32]byte) (int, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM app_sessions WHERE person = $1 AND hash <> $2", person, keep[:])
	if err != nil {
		return 0, fmt.Errorf("pgstore: end app sessions of %s: %w", person, err)
	}
	return int(tag.RowsAffected()), nil
}

// AddAppNotice implements store.Apps.
func (s *Store) AddAppNotice(ctx context.Context, n store.AppNotice) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: add app notice %s: %w", n.ID, err)
	}
	rec, err := json.Marshal(n)
	if err == nil {
		_, err = s.pool.Exec(ctx, "INSERT INTO app_notices (person, id, sent, record) VALUES ($1, $2, $3, $4)", n.Person, n.ID, n.Sent, rec)
	}
	if uniqueViolation(err) {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("pgstore: add app notice %s: %w", n.ID, err)
	}
	return nil
}

// AppNotices implements store.Apps.
func (s *Store) AppNotices(ctx context.Context, person string) ([]store.AppNotice, error) {
	rows, _ := s.pool.Query(ctx, `SELECT record FROM app_notices WHERE person = $1 ORDER BY sent DESC, id COLLATE "C" DESC`, person)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AppNotice, error) {
		var rec []byte
		var n store.AppNotice
		if err := row.Scan(&rec); err != nil {
			return n, err
		}
		err := json.Unmarshal(rec, &n)
		n.Person = person
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: app notices of %s: %w", person, err)
	}
	return nilIfEmpty(out), nil
}

// appReceiptRecord is the JSON of a receipt's other fields.
type appReceiptRecord struct {
	Venue   string    `json:"venue"`
	How     string    `json:"how"`
	Flags   []string  `json:"flags"`
	Created time.Time `json:"created"`
}

// PutAppReceipt implements store.Apps.
func (s *Store) PutAppReceipt(ctx context.Context, r store.AppReceipt) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: put app receipt: %w", err)
	}
	rec, err := json.Marshal(appReceiptRecord{Venue: r.Venue, How: r.How, Flags: r.Flags, Created: r.Created})
	if err == nil {
		_, err = s.pool.Exec(ctx, "INSERT INTO app_receipts (client, device, seq, time, record) VALUES ($1, $2, $3, $4, $5)",
			r.Client[:], r.Device, int64(r.Seq), r.Time, rec)
	}
	if uniqueViolation(err) {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("pgstore: put app receipt: %w", err)
	}
	return nil
}

func scanReceipt(row pgx.Row) (store.AppReceipt, error) {
	var r store.AppReceipt
	var client, rec []byte
	var seq int64
	if err := row.Scan(&client, &r.Device, &seq, &r.Time, &rec); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			err = store.ErrNotFound
		}
		return r, err
	}
	var x appReceiptRecord
	if err := json.Unmarshal(rec, &x); err != nil {
		return r, err
	}
	if len(client) != 32 {
		return r, fmt.Errorf("client key of %d bytes", len(client))
	}
	r.Client, r.Seq, r.Venue, r.How, r.Flags, r.Created = [32]byte(client), uint64(seq), x.Venue, x.How, x.Flags, x.Created
	return r, nil
}

// AppReceipt implements store.Apps.
func (s *Store) AppReceipt(ctx context.Context, client [32]byte) (store.AppReceipt, error) {
	r, err := scanReceipt(s.pool.QueryRow(ctx, "SELECT client, device, seq, time, record FROM app_receipts WHERE client = $1", client[:]))
	if err != nil {
		return store.AppReceipt{}, fmt.Errorf("pgstore: app receipt: %w", err)
	}
	return r, nil
}

// AppReceiptAt implements store.Apps.
func (s *Store) AppReceiptAt(ctx context.Context, device string, seq uint64) (store.AppReceipt, error) {
	r, err := scanReceipt(s.pool.QueryRow(ctx, "SELECT client, device, seq, time, record FROM app_receipts WHERE device = $1 AND seq = $2 LIMIT 1", device, int64(seq)))
	if err != nil {
		return store.AppReceipt{}, fmt.Errorf("pgstore: app receipt of %s/%d: %w", device, seq, err)
	}
	return r, nil
}

// DeleteAppPerson implements store.Apps, in one transaction: the
// person's row (their cards by the cascade), a tombstone, and their app
// account, sessions and notices.
func (s *Store) DeleteAppPerson(ctx context.Context, person string, now time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM persons WHERE id = $1", []byte(person))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var gone bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM person_tombstones WHERE id = $1)", []byte(person)).Scan(&gone); err != nil {
				return err
			}
			if gone {
				return store.ErrDestroyed
			}
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, "INSERT INTO person_tombstones (id, destroyed) VALUES ($1, $2)", []byte(person), now); err != nil {
			return err
		}
		for _, table := range []string{"app_accounts", "app_sessions", "app_notices"} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE person = $1", person); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: delete app person %s: %w", person, err)
	}
	return nil
}

// DropApp implements store.Apps.
func (s *Store) DropApp(ctx context.Context, before, keepFrom time.Time) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n = 0
		for _, q := range []struct {
			sql string
			arg time.Time
		}{
			{"DELETE FROM app_codes WHERE expires <= $1", before},
			{"DELETE FROM app_sessions WHERE expires <= $1", before},
			{"DELETE FROM app_limits WHERE full_at <= $1", before},
			{"DELETE FROM app_notices WHERE sent < $1", keepFrom},
			{"DELETE FROM app_receipts WHERE time < $1", keepFrom},
		} {
			tag, err := tx.Exec(ctx, q.sql, q.arg)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: drop app data: %w", err)
	}
	return n, nil
}

// TakeAppLimit implements store.Apps: the bucket's row is locked (made
// first if missing) and store.TakeToken applied to it.
func (s *Store) TakeAppLimit(ctx context.Context, key [32]byte, now time.Time, every time.Duration, burst int) (bool, error) {
	var ok bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO app_limits (key, full_at) VALUES ($1, '-infinity') ON CONFLICT (key) DO NOTHING", key[:]); err != nil {
			return err
		}
		var full pgtype.Timestamptz
		if err := tx.QueryRow(ctx, "SELECT full_at FROM app_limits WHERE key = $1 FOR UPDATE", key[:]).Scan(&full); err != nil {
			return err
		}
		var last time.Time
		if full.InfinityModifier == pgtype.Finite {
			last = full.Time
		}
		var next time.Time
		if next, ok = store.TakeToken(last, now, every, burst); !ok {
			return nil
		}
		_, err := tx.Exec(ctx, "UPDATE app_limits SET full_at = $2 WHERE key = $1", key[:], next)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("pgstore: take app limit: %w", err)
	}
	return ok, nil
}
