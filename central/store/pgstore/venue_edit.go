package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
)

var _ store.VenueEdits = (*Store)(nil)

// UpdateVenueDetails implements store.VenueEdits: the venue's row is
// locked (SELECT … FOR UPDATE) while it is compared and changed.
func (s *Store) UpdateVenueDetails(ctx context.Context, id string, d store.VenueDetails, now time.Time) (before, after store.Venue, err error) {
	err = s.update(ctx, func(tx pgx.Tx) error {
		var err error
		before, err = scanVenue(tx.QueryRow(ctx, "SELECT "+venueColumns+" FROM venues WHERE id = $1 FOR UPDATE", []byte(id)))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		after = before
		after.Name, after.Address, after.Category, after.DefaultStay = d.Name, d.Address, d.Category, d.DefaultStay
		if after.Name == before.Name && after.Address == before.Address && after.Category == before.Category && after.DefaultStay == before.DefaultStay {
			return nil
		}
		after.Updated = now.Truncate(time.Microsecond).UTC()
		_, err = tx.Exec(ctx, "UPDATE venues SET name = $2, address = $3, category = $4, default_stay = $5, updated = $6 WHERE id = $1",
			[]byte(id), d.Name, d.Address, string(d.Category), d.DefaultStay, after.Updated)
		return err
	})
	if err != nil {
		return store.Venue{}, store.Venue{}, fmt.Errorf("pgstore: edit venue %q: %w", id, err)
	}
	return before, after, nil
}

// VenueTokens implements store.VenueEdits.
func (s *Store) VenueTokens(ctx context.Context, venue string) ([]store.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: tokens of venue %q: %w", venue, err)
	}
	rows, _ := s.pool.Query(ctx, "SELECT hash, expires, used FROM tokens WHERE venue = $1 ORDER BY expires DESC, hash", []byte(venue))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Token, error) {
		var h []byte
		t := store.Token{Venue: venue}
		err := row.Scan(&h, &t.Expires, &t.Used)
		copy(t.Hash[:], h)
		t.Expires = t.Expires.UTC()
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: tokens of venue %q: %w", venue, err)
	}
	return nilIfEmpty(out), nil
}

// DeleteToken implements store.VenueEdits.
func (s *Store) DeleteToken(ctx context.Context, venue string, h [32]byte) error {
	err := s.update(ctx, func(tx pgx.Tx) error {
		var used bool
		err := tx.QueryRow(ctx, "SELECT used FROM tokens WHERE hash = $1 AND venue = $2 FOR UPDATE", h[:], []byte(venue)).Scan(&used)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case used:
			return store.ErrTokenUsed
		}
		_, err = tx.Exec(ctx, "DELETE FROM tokens WHERE hash = $1", h[:])
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: delete token of venue %q: %w", venue, err)
	}
	return nil
}
