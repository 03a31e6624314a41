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

// The console's cases (0013_cases.sql):
//
//	cases         id (identity), ref, opener, opened, closed (NULL while open), closer
//	case_traces   seq (identity), id (unique), case_id → cases, who, created, params

const caseColumns = "id, ref, opener, opened, closed, closer"

// scanCase scans a row of caseColumns.
func scanCase(row pgx.Row) (store.Case, error) {
	var c store.Case
	var id int64
	var closed *time.Time
	if err := row.Scan(&id, &c.Ref, &c.Opener, &c.Opened, &closed, &c.Closer); err != nil {
		return store.Case{}, err
	}
	c.ID, c.Opened = uint64(id), c.Opened.UTC()
	if closed != nil {
		c.Closed = closed.UTC()
	}
	return c, nil
}

// AddCase implements store.Cases.
func (s *Store) AddCase(ctx context.Context, c store.Case) (uint64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, "INSERT INTO cases (ref, opener, opened) VALUES ($1, $2, $3) RETURNING id",
		c.Ref, c.Opener, c.Opened).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("pgstore: add case: %w", err)
	}
	return uint64(id), nil
}

// Case implements store.Cases.
func (s *Store) Case(ctx context.Context, id uint64) (store.Case, error) {
	c, err := scanCase(s.pool.QueryRow(ctx, "SELECT "+caseColumns+" FROM cases WHERE id = $1", int64(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Case{}, fmt.Errorf("pgstore: case %d: %w", id, err)
	}
	return c, nil
}

// OpenCases implements store.Cases.
func (s *Store) OpenCases(ctx context.Context) ([]store.Case, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+caseColumns+" FROM cases WHERE closed IS NULL ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("pgstore: open cases: %w", err)
	}
	defer rows.Close()
	var out []store.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: open cases: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: open cases: %w", err)
	}
	return out, nil
}

// CloseCase implements store.Cases: one update that keeps a first close.
func (s *Store) CloseCase(ctx context.Context, id uint64, who string, now time.Time) (store.Case, error) {
	c, err := scanCase(s.pool.QueryRow(ctx, `UPDATE cases SET closed = COALESCE(closed, $2),
		closer = CASE WHEN closed IS NULL THEN $3 ELSE closer END WHERE id = $1 RETURNING `+caseColumns,
		int64(id), now, who))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Case{}, fmt.Errorf("pgstore: close case %d: %w", id, err)
	}
	return c, nil
}

// AddCaseTrace implements store.Cases.
func (s *Store) AddCaseTrace(ctx context.Context, t store.CaseTrace) error {
	params := t.Params
	if params == nil {
		params = []byte{}
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO case_traces (id, case_id, who, created, params) VALUES ($1, $2, $3, $4, $5)",
		t.ID, int64(t.Case), t.Who, t.Created, params)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			err = store.ErrExists
		case "23503":
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: add trace %s of case %d: %w", t.ID, t.Case, err)
	}
	return nil
}

// DropCaseTraces implements store.Cases.
func (s *Store) DropCaseTraces(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM case_traces WHERE created < $1", before.UTC())
	if err != nil {
		return 0, fmt.Errorf("pgstore: drop traces before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// CaseTraces implements store.Cases.
func (s *Store) CaseTraces(ctx context.Context, id uint64) ([]store.CaseTrace, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, who, created, params FROM case_traces WHERE case_id = $1 ORDER BY seq", int64(id))
	if err != nil {
		return nil, fmt.Errorf("pgstore: traces of case %d: %w", id, err)
	}
	defer rows.Close()
	out := []store.CaseTrace{}
	for rows.Next() {
		t := store.CaseTrace{Case: id}
		if err := rows.Scan(&t.ID, &t.Who, &t.Created, &t.Params); err != nil {
			return nil, fmt.Errorf("pgstore: traces of case %d: %w", id, err)
		}
		t.Created = t.Created.UTC()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: traces of case %d: %w", id, err)
	}
	return out, nil
}
