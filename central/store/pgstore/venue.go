package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// venueColumns are the columns of venues in the order of scanVenue.
const venueColumns = `id, name, business_number, address, category, default_stay, lat, lon,
	owner_phone, status, created, updated, debounce_seconds, status_reason`

// AddVenue implements store.Store in one INSERT: the primary key and the
// unique index venues_business_number (business numbers other than ”)
// refuse a duplicate.
func (s *Store) AddVenue(ctx context.Context, v store.Venue) error {
	if v.ID == "" {
		return errors.New("pgstore: add venue: empty id")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: add venue %q: %w", v.ID, err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO venues (`+venueColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		[]byte(v.ID), v.Name, v.BusinessNumber, v.Address, string(v.Category), v.DefaultStay,
		v.Location.Lat, v.Location.Lon, v.OwnerPhone, string(v.Status), v.Created, v.Updated, v.DebounceSeconds, v.StatusReason)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		switch pe.ConstraintName {
		case "venues_pkey":
			err = fmt.Errorf("id: %w", store.ErrExists)
		case "venues_business_number":
			var other []byte
			if qerr := s.pool.QueryRow(ctx, "SELECT id FROM venues WHERE business_number = $1", v.BusinessNumber).Scan(&other); qerr != nil {
				other = []byte("?")
			}
			err = fmt.Errorf("business_number %s: %w (venue %s)", v.BusinessNumber, store.ErrExists, other)
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: add venue %q: %w", v.ID, err)
	}
	return nil
}

// Venue implements store.Store.
func (s *Store) Venue(ctx context.Context, id string) (store.Venue, error) {
	v, err := s.venues(ctx, "WHERE id = $1", []byte(id))
	if err == nil && len(v) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Venue{}, fmt.Errorf("pgstore: venue %q: %w", id, err)
	}
	return v[0], nil
}

// Venues implements store.Store: all venues in id order.
func (s *Store) Venues(ctx context.Context) ([]store.Venue, error) {
	v, err := s.venues(ctx, "ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("pgstore: list venues: %w", err)
	}
	return nilIfEmpty(v), nil
}

func (s *Store) venues(ctx context.Context, where string, args ...any) ([]store.Venue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+venueColumns+" FROM venues "+where, args...)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Venue, error) {
		return scanVenue(row)
	})
}

// scanVenue scans a row of venueColumns.
func scanVenue(row pgx.Row) (store.Venue, error) {
	var id []byte
	var category, status string
	var v store.Venue
	err := row.Scan(&id, &v.Name, &v.BusinessNumber, &v.Address, &category, &v.DefaultStay,
		&v.Location.Lat, &v.Location.Lon, &v.OwnerPhone, &status, &v.Created, &v.Updated, &v.DebounceSeconds, &v.StatusReason)
	v.ID, v.Category, v.Status = string(id), registry.Category(category), registry.Status(status)
	v.Created, v.Updated = v.Created.UTC(), v.Updated.UTC()
	return v, err
}

// UpdateVenueDebounce implements store.Store: the venue's row is locked
// (SELECT … FOR UPDATE) while it is compared and changed.
func (s *Store) UpdateVenueDebounce(ctx context.Context, id string, seconds int, now time.Time) (store.Venue, error) {
	var v store.Venue
	err := s.update(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = scanVenue(tx.QueryRow(ctx, "SELECT "+venueColumns+" FROM venues WHERE id = $1 FOR UPDATE", []byte(id)))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		if v.DebounceSeconds == seconds {
			return nil
		}
		v.DebounceSeconds, v.Updated = seconds, now.Truncate(time.Microsecond).UTC()
		_, err = tx.Exec(ctx, "UPDATE venues SET debounce_seconds = $2, updated = $3 WHERE id = $1", []byte(id), seconds, now)
		return err
	})
	if err != nil {
		return store.Venue{}, fmt.Errorf("pgstore: set debounce of venue %q: %w", id, err)
	}
	return v, nil
}

// UpdateVenueStatus implements store.Store: the venue's row is locked
// (SELECT … FOR UPDATE) while the move is checked and made.
func (s *Store) UpdateVenueStatus(ctx context.Context, id string, status registry.Status, reason string, now time.Time) (store.Venue, error) {
	var v store.Venue
	err := s.update(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = scanVenue(tx.QueryRow(ctx, "SELECT "+venueColumns+" FROM venues WHERE id = $1 FOR UPDATE", []byte(id)))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		if err := registry.CheckTransition(v.Status, status); err != nil {
			return err
		}
		if v.Status == status {
			return nil
		}
		v.Status, v.StatusReason, v.Updated = status, reason, now.Truncate(time.Microsecond).UTC()
		_, err = tx.Exec(ctx, "UPDATE venues SET status = $2, updated = $3, status_reason = $4 WHERE id = $1", []byte(id), string(status), now, reason)
		return err
	})
	if err != nil {
		return store.Venue{}, fmt.Errorf("pgstore: set status of venue %q: %w", id, err)
	}
	return v, nil
}
