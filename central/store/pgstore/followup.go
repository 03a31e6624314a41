package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/central/store"
)

// The follow-ups (0014_followups.sql):
//
//	followups       case_ref, pseudonym (primary key), investigator, record (JSON store.FollowUp)
//	notifications   id (primary key), case_ref, created, record (JSON store.Notification)
//
// The records leave the pseudonym out (json:"-"): it is its own column.

func scanFollowUp(row pgx.Row) (store.FollowUp, error) {
	var f store.FollowUp
	var p, rec []byte
	if err := row.Scan(&p, &rec); err != nil {
		return f, err
	}
	if err := json.Unmarshal(rec, &f); err != nil {
		return f, err
	}
	if len(p) != len(f.Pseudonym) {
		return f, fmt.Errorf("pseudonym of %d bytes", len(p))
	}
	f.Pseudonym = [16]byte(p)
	return f, nil
}

// AddFollowUp implements store.FollowUps.
func (s *Store) AddFollowUp(ctx context.Context, f store.FollowUp) (store.FollowUp, error) {
	f = store.NewFollowUp(f)
	if err := ctx.Err(); err != nil {
		return store.FollowUp{}, fmt.Errorf("pgstore: add follow-up of case %s: %w", f.Case, err)
	}
	rec, err := json.Marshal(f)
	if err == nil {
		_, err = s.pool.Exec(ctx, "INSERT INTO followups (case_ref, pseudonym, investigator, record) VALUES ($1, $2, $3, $4)",
			f.Case, f.Pseudonym[:], f.Investigator, rec)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		err = store.ErrExists
	}
	if err != nil {
		return store.FollowUp{}, fmt.Errorf("pgstore: add follow-up of case %s: %w", f.Case, err)
	}
	return f, nil
}

// FollowUp implements store.FollowUps.
func (s *Store) FollowUp(ctx context.Context, caseRef string, p [16]byte) (store.FollowUp, error) {
	f, err := scanFollowUp(s.pool.QueryRow(ctx, "SELECT pseudonym, record FROM followups WHERE case_ref = $1 AND pseudonym = $2", caseRef, p[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.FollowUp{}, fmt.Errorf("pgstore: follow-up of case %s: %w", caseRef, err)
	}
	return f, nil
}

func (s *Store) queryFollowUps(ctx context.Context, where string, arg any) ([]store.FollowUp, error) {
	rows, _ := s.pool.Query(ctx, "SELECT pseudonym, record FROM followups WHERE "+where+
		` ORDER BY case_ref COLLATE "C", pseudonym`, arg)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.FollowUp, error) { return scanFollowUp(row) })
	return nilIfEmpty(out), err
}

// FollowUpsOf implements store.FollowUps.
func (s *Store) FollowUpsOf(ctx context.Context, investigator string) ([]store.FollowUp, error) {
	out, err := s.queryFollowUps(ctx, "investigator = $1", investigator)
	if err != nil {
		return nil, fmt.Errorf("pgstore: follow-ups of %s: %w", investigator, err)
	}
	return out, nil
}

// CaseFollowUps implements store.FollowUps.
func (s *Store) CaseFollowUps(ctx context.Context, caseRef string) ([]store.FollowUp, error) {
	out, err := s.queryFollowUps(ctx, "case_ref = $1", caseRef)
	if err != nil {
		return nil, fmt.Errorf("pgstore: follow-ups of case %s: %w", caseRef, err)
	}
	return out, nil
}

// SetFollowUpStatus implements store.FollowUps: the row locked, checked
// and rewritten in one transaction.
func (s *Store) SetFollowUpStatus(ctx context.Context, caseRef string, p [16]byte, to followup.Status, who, newCase string, now time.Time) (store.FollowUp, error) {
	var f store.FollowUp
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		f, err = scanFollowUp(tx.QueryRow(ctx, "SELECT pseudonym, record FROM followups WHERE case_ref = $1 AND pseudonym = $2 FOR UPDATE", caseRef, p[:]))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := store.CheckFollowUpMove(f.Status, to, newCase); err != nil {
			return err
		}
		f.History = append(f.History, store.StatusChange{From: f.Status, To: to, Who: who, At: now})
		f.Status, f.Updated = to, now
		if newCase != "" {
			f.NewCase = newCase
		}
		rec, err := json.Marshal(f)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE followups SET record = $3 WHERE case_ref = $1 AND pseudonym = $2", caseRef, p[:], rec)
		return err
	})
	if err != nil {
		return store.FollowUp{}, fmt.Errorf("pgstore: follow-up of case %s: %w", caseRef, err)
	}
	return f, nil
}

// notificationRecord is the JSON of a notification, pseudonym included.
type notificationRecord struct {
	store.Notification
	Pseudonym []byte `json:"pseudonym"`
}

// PutNotification implements store.FollowUps.
func (s *Store) PutNotification(ctx context.Context, n store.Notification) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: put notification %s: %w", n.ID, err)
	}
	rec, err := json.Marshal(notificationRecord{Notification: n, Pseudonym: n.Pseudonym[:]})
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO notifications (id, case_ref, created, record) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET case_ref = EXCLUDED.case_ref, created = EXCLUDED.created, record = EXCLUDED.record`,
			n.ID, n.Case, n.Created, rec)
	}
	if err != nil {
		return fmt.Errorf("pgstore: put notification %s: %w", n.ID, err)
	}
	return nil
}

// Notifications implements store.FollowUps.
func (s *Store) Notifications(ctx context.Context, caseRef string) ([]store.Notification, error) {
	rows, _ := s.pool.Query(ctx, `SELECT record FROM notifications WHERE case_ref = $1 ORDER BY created, id COLLATE "C"`, caseRef)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Notification, error) {
		var rec []byte
		var r notificationRecord
		if err := row.Scan(&rec); err != nil {
			return store.Notification{}, err
		}
		if err := json.Unmarshal(rec, &r); err != nil {
			return store.Notification{}, err
		}
		if len(r.Pseudonym) != len(r.Notification.Pseudonym) {
			return store.Notification{}, fmt.Errorf("notification %s: pseudonym of %d bytes", r.ID, len(r.Pseudonym))
		}
		r.Notification.Pseudonym = [16]byte(r.Pseudonym)
		return r.Notification, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: notifications of case %s: %w", caseRef, err)
	}
	return nilIfEmpty(out), nil
}

// DropFollowUps implements store.FollowUps.
func (s *Store) DropFollowUps(ctx context.Context, before time.Time) (int, int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("pgstore: drop follow-ups: %w", err)
	}
	defer tx.Rollback(ctx)
	f, err := tx.Exec(ctx, "DELETE FROM followups WHERE (record->>'created')::timestamptz < $1", before.UTC())
	if err != nil {
		return 0, 0, fmt.Errorf("pgstore: drop follow-ups: %w", err)
	}
	n, err := tx.Exec(ctx, "DELETE FROM notifications WHERE created < $1", before.UTC())
	if err != nil {
		return 0, 0, fmt.Errorf("pgstore: drop notifications: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("pgstore: drop follow-ups: %w", err)
	}
	return int(f.RowsAffected()), int(n.RowsAffected()), nil
}
