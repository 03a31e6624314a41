package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// The venue registry's bucket beside "venues", made by the first venue
// stored with a business number (a file of an older binary has none until
// then):
//
//	venue-business-numbers   business number (NNN-NN-NNNNN) → venue id
//
// It makes business numbers unique; venues without one are not in it.
var bucketVenueNumbers = []byte("venue-business-numbers")

// AddVenue implements store.Store: the venue and its business number's
// index entry in one transaction.
func (s *Store) AddVenue(ctx context.Context, v store.Venue) error {
	if v.ID == "" {
		return errors.New("add venue: empty id")
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		vb := tx.Bucket(bucketVenues)
		if vb.Get([]byte(v.ID)) != nil {
			return fmt.Errorf("id: %w", store.ErrExists)
		}
		if v.BusinessNumber != "" {
			nb, err := tx.CreateBucketIfNotExists(bucketVenueNumbers)
			if err != nil {
				return err
			}
			if other := nb.Get([]byte(v.BusinessNumber)); other != nil {
				return fmt.Errorf("business_number %s: %w (venue %s)", v.BusinessNumber, store.ErrExists, other)
			}
			if err := nb.Put([]byte(v.BusinessNumber), []byte(v.ID)); err != nil {
				return err
			}
		}
		return putJSON(vb, []byte(v.ID), v)
	})
	if err != nil {
		return fmt.Errorf("add venue %s: %w", v.ID, err)
	}
	return nil
}

// Venue implements store.Store.
func (s *Store) Venue(ctx context.Context, id string) (store.Venue, error) {
	var v store.Venue
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if id == "" {
			return store.ErrNotFound
		}
		return getJSON(tx.Bucket(bucketVenues), []byte(id), &v)
	})
	if err != nil {
		return store.Venue{}, fmt.Errorf("venue %s: %w", id, err)
	}
	return v, nil
}

// Venues implements store.Store: all venues in id order.
func (s *Store) Venues(ctx context.Context) ([]store.Venue, error) {
	var out []store.Venue
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVenues).ForEach(func(k, v []byte) error {
			var x store.Venue
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("venue %s: %w", k, err)
			}
			out = append(out, x)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list venues: %w", err)
	}
	return out, nil
}

// UpdateVenueDebounce implements store.Store.
func (s *Store) UpdateVenueDebounce(ctx context.Context, id string, seconds int, now time.Time) (store.Venue, error) {
	var v store.Venue
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVenues)
		if id == "" {
			return store.ErrNotFound
		}
		if err := getJSON(b, []byte(id), &v); err != nil {
			return err
		}
		if v.DebounceSeconds == seconds {
			return nil
		}
		v.DebounceSeconds, v.Updated = seconds, now
		return putJSON(b, []byte(id), v)
	})
	if err != nil {
		return store.Venue{}, fmt.Errorf("set debounce of venue %s: %w", id, err)
	}
	return v, nil
}

// UpdateVenueStatus implements store.Store.
func (s *Store) UpdateVenueStatus(ctx context.Context, id string, status registry.Status, reason string, now time.Time) (store.Venue, error) {
	var v store.Venue
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVenues)
		if id == "" {
			return store.ErrNotFound
		}
		if err := getJSON(b, []byte(id), &v); err != nil {
			return err
		}
		if err := registry.CheckTransition(v.Status, status); err != nil {
			return err
		}
		if v.Status == status {
			return nil
		}
		v.Status, v.StatusReason, v.Updated = status, reason, now
		return putJSON(b, []byte(id), v)
	})
	if err != nil {
		return store.Venue{}, fmt.Errorf("set status of venue %s: %w", id, err)
	}
	return v, nil
}
