package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/central/store"
)

// The follow-ups' buckets, made by the first follow-up or notification
// stored:
//
//	followups       case ‖ 0x00 ‖ pseudonym (16) → followUpRecord (JSON)
//	notifications   id → notificationRecord (JSON)
var (
	bucketFollowUps     = []byte("followups")
	bucketNotifications = []byte("notifications")
)

// followUpRecord is a store.FollowUp as stored, pseudonym included.
type followUpRecord struct {
	store.FollowUp
	Pseudonym string `json:"pseudonym"` // hex
}

// notificationRecord is a store.Notification as stored.
type notificationRecord struct {
	store.Notification
	Pseudonym string `json:"pseudonym"` // hex
}

func followUpKey(caseRef string, p [16]byte) []byte {
	return append(append([]byte(caseRef), 0), p[:]...)
}

func decodePseudonym(s string) ([16]byte, error) {
	var p [16]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(p) {
		return p, fmt.Errorf("stored pseudonym %q", s)
	}
	return [16]byte(b), nil
}

func decodeFollowUp(v []byte) (store.FollowUp, error) {
	var r followUpRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return store.FollowUp{}, err
	}
	p, err := decodePseudonym(r.Pseudonym)
	r.FollowUp.Pseudonym = p
	return r.FollowUp, err
}

func putFollowUp(b *bolt.Bucket, f store.FollowUp) error {
	return putJSON(b, followUpKey(f.Case, f.Pseudonym), followUpRecord{FollowUp: f, Pseudonym: hex.EncodeToString(f.Pseudonym[:])})
}

// AddFollowUp implements store.FollowUps.
func (s *Store) AddFollowUp(ctx context.Context, f store.FollowUp) (store.FollowUp, error) {
	f = store.NewFollowUp(f)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketFollowUps)
		if err != nil {
			return err
		}
		if b.Get(followUpKey(f.Case, f.Pseudonym)) != nil {
			return store.ErrExists
		}
		return putFollowUp(b, f)
	})
	if err != nil {
		return store.FollowUp{}, fmt.Errorf("add follow-up of case %s: %w", f.Case, err)
	}
	return f, nil
}

// FollowUp implements store.FollowUps.
func (s *Store) FollowUp(ctx context.Context, caseRef string, p [16]byte) (store.FollowUp, error) {
	var f store.FollowUp
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFollowUps)
		if b == nil {
			return store.ErrNotFound
		}
		v := b.Get(followUpKey(caseRef, p))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		f, err = decodeFollowUp(v)
		return err
	})
	if err != nil {
		return store.FollowUp{}, fmt.Errorf("follow-up of case %s: %w", caseRef, err)
	}
	return f, nil
}

// followUps returns the follow-ups under prefix that keep says to keep, in
// key order.
func (s *Store) followUps(ctx context.Context, prefix []byte, keep func(store.FollowUp) bool) ([]store.FollowUp, error) {
	var out []store.FollowUp
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFollowUps)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			f, err := decodeFollowUp(v)
			if err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			if keep(f) {
				out = append(out, f)
			}
		}
		return nil
	})
	return out, err
}

// FollowUpsOf implements store.FollowUps: a scan of every follow-up.
func (s *Store) FollowUpsOf(ctx context.Context, investigator string) ([]store.FollowUp, error) {
	out, err := s.followUps(ctx, nil, func(f store.FollowUp) bool { return f.Investigator == investigator })
	if err != nil {
		return nil, fmt.Errorf("follow-ups of %s: %w", investigator, err)
	}
	return out, nil
}

// CaseFollowUps implements store.FollowUps.
func (s *Store) CaseFollowUps(ctx context.Context, caseRef string) ([]store.FollowUp, error) {
	out, err := s.followUps(ctx, append([]byte(caseRef), 0), func(store.FollowUp) bool { return true })
	if err != nil {
		return nil, fmt.Errorf("follow-ups of case %s: %w", caseRef, err)
	}
	return out, nil
}

// SetFollowUpStatus implements store.FollowUps.
func (s *Store) SetFollowUpStatus(ctx context.Context, caseRef string, p [16]byte, to followup.Status, who, newCase string, now time.Time) (store.FollowUp, error) {
	var f store.FollowUp
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFollowUps)
		if b == nil {
			return store.ErrNotFound
		}
		v := b.Get(followUpKey(caseRef, p))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		if f, err = decodeFollowUp(v); err != nil {
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
		return putFollowUp(b, f)
	})
	if err != nil {
		return store.FollowUp{}, fmt.Errorf("follow-up of case %s: %w", caseRef, err)
	}
	return f, nil
}

// PutNotification implements store.FollowUps.
func (s *Store) PutNotification(ctx context.Context, n store.Notification) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketNotifications)
		if err != nil {
			return err
		}
		return putJSON(b, []byte(n.ID), notificationRecord{Notification: n, Pseudonym: hex.EncodeToString(n.Pseudonym[:])})
	})
	if err != nil {
		return fmt.Errorf("put notification %s: %w", n.ID, err)
	}
	return nil
}

// Notifications implements store.FollowUps: a scan of every notification.
func (s *Store) Notifications(ctx context.Context, caseRef string) ([]store.Notification, error) {
	var out []store.Notification
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotifications)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r notificationRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			if r.Case != caseRef {
				return nil
			}
			p, err := decodePseudonym(r.Pseudonym)
			if err != nil {
				return err
			}
			r.Notification.Pseudonym = p
			out = append(out, r.Notification)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("notifications of case %s: %w", caseRef, err)
	}
	slices.SortFunc(out, func(a, b store.Notification) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DropFollowUps implements store.FollowUps.
func (s *Store) DropFollowUps(ctx context.Context, before time.Time) (int, int, error) {
	var nf, nn int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		nf, nn = 0, 0
		drop := func(bucket []byte, created func(v []byte) (time.Time, error)) (int, error) {
			b := tx.Bucket(bucket)
			if b == nil {
				return 0, nil
			}
			var old [][]byte
			err := b.ForEach(func(k, v []byte) error {
				t, err := created(v)
				if err != nil {
					return fmt.Errorf("%s %x: %w", bucket, k, err)
				}
				if t.Before(before) {
					old = append(old, bytes.Clone(k))
				}
				return nil
			})
			if err != nil {
				return 0, err
			}
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return 0, err
				}
			}
			return len(old), nil
		}
		var err error
		if nf, err = drop(bucketFollowUps, func(v []byte) (time.Time, error) {
			var r followUpRecord
			err := json.Unmarshal(v, &r)
			return r.Created, err
		}); err != nil {
			return err
		}
		nn, err = drop(bucketNotifications, func(v []byte) (time.Time, error) {
			var r notificationRecord
			err := json.Unmarshal(v, &r)
			return r.Created, err
		})
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("drop follow-ups before %s: %w", before.Format(time.RFC3339), err)
	}
	return nf, nn, nil
}
