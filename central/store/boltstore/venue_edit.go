package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

var _ store.VenueEdits = (*Store)(nil)

// UpdateVenueDetails implements store.VenueEdits.
func (s *Store) UpdateVenueDetails(ctx context.Context, id string, d store.VenueDetails, now time.Time) (before, after store.Venue, err error) {
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVenues)
		if id == "" {
			return store.ErrNotFound
		}
		if err := getJSON(b, []byte(id), &before); err != nil {
			return err
		}
		after = before
		after.Name, after.Address, after.Category, after.DefaultStay = d.Name, d.Address, d.Category, d.DefaultStay
		if after.Name == before.Name && after.Address == before.Address && after.Category == before.Category && after.DefaultStay == before.DefaultStay {
			return nil
		}
		after.Updated = now
		return putJSON(b, []byte(id), after)
	})
	if err != nil {
		return store.Venue{}, store.Venue{}, fmt.Errorf("edit venue %s: %w", id, err)
	}
	return before, after, nil
}

// VenueTokens implements store.VenueEdits: a scan of the tokens bucket.
func (s *Store) VenueTokens(ctx context.Context, venue string) ([]store.Token, error) {
	var out []store.Token
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			var t store.Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("token %x: %w", k[:4], err)
			}
			if t.Venue == venue {
				copy(t.Hash[:], k)
				out = append(out, t)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tokens of venue %s: %w", venue, err)
	}
	slices.SortFunc(out, func(a, b store.Token) int {
		return cmp.Or(b.Expires.Compare(a.Expires), bytes.Compare(a.Hash[:], b.Hash[:]))
	})
	return out, nil
}

// DeleteToken implements store.VenueEdits.
func (s *Store) DeleteToken(ctx context.Context, venue string, h [32]byte) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		var t store.Token
		if err := getJSON(b, h[:], &t); err != nil {
			return err
		}
		switch {
		case t.Venue != venue:
			return store.ErrNotFound
		case t.Used:
			return store.ErrTokenUsed
		}
		return b.Delete(h[:])
	})
	if err != nil {
		return fmt.Errorf("delete token of venue %s: %w", venue, err)
	}
	return nil
}
