package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
)

// AddAudit implements store.Retention.
func (s *Store) AddAudit(ctx context.Context, e store.AuditEvent) (uint64, error) {
	var id int64
	err := s.update(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, "INSERT INTO audit (time, kind, who, detail, case_ref, reason) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
			e.Time, e.Kind, e.Who, e.Detail, e.CaseRef, e.Reason).Scan(&id)
		if err != nil {
			return err
		}
		e.ID = uint64(id)
		leaf, err := ledgerstore.EventLeaf(e) // the event's ledger leaf, in the same transaction
		if err != nil {
			return err
		}
		_, err = appendLeaf(ctx, tx, leaf)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: add audit event: %w", err)
	}
	return uint64(id), nil
}

// Audit implements store.Retention.
func (s *Store) Audit(ctx context.Context) ([]store.AuditEvent, error) {
	rows, _ := s.pool.Query(ctx, "SELECT id, time, kind, who, detail, case_ref, reason FROM audit ORDER BY id")
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditEvent, error) {
		var e store.AuditEvent
		var id int64
		err := row.Scan(&id, &e.Time, &e.Kind, &e.Who, &e.Detail, &e.CaseRef, &e.Reason)
		e.ID, e.Time = uint64(id), e.Time.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: audit: %w", err)
	}
	return out, nil
}

// BindDayKeys implements store.Retention (0017_daykeys_binding.sql).
func (s *Store) BindDayKeys(ctx context.Context, fp [32]byte, replace bool) ([32]byte, error) {
	q := "INSERT INTO daykeys_binding (fingerprint) VALUES ($1) ON CONFLICT (one) DO NOTHING"
	if replace {
		q = "INSERT INTO daykeys_binding (fingerprint) VALUES ($1) ON CONFLICT (one) DO UPDATE SET fingerprint = EXCLUDED.fingerprint"
	}
	var bound []byte
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q, fp[:]); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT fingerprint FROM daykeys_binding").Scan(&bound)
	})
	if err != nil {
		return [32]byte{}, fmt.Errorf("pgstore: bind day keys: %w", err)
	}
	return [32]byte(bound), nil
}
