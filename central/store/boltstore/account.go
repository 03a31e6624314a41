package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// The web accounts' buckets, made by the first account added:
//
//	accounts       name → accountRecord (JSON)
//	web-sessions   SHA-256 of the session id → store.Session (JSON)
var (
	bucketAccounts    = []byte("accounts")
	bucketWebSessions = []byte("web-sessions")
)

// accountRecord is a store.Account as stored, password hash included.
type accountRecord struct {
	store.Account
	PasswordHash string `json:"password_hash"`
}

func (r accountRecord) account() store.Account {
	a := r.Account
	a.PasswordHash = r.PasswordHash
	return a
}

// sessionRecord is a store.Session as stored.
type sessionRecord struct {
	store.Session
	Hash []byte `json:"hash"`
}

func (r sessionRecord) session() store.Session {
	s := r.Session
	copy(s.Hash[:], r.Hash)
	return s
}

// AddAccount implements store.Accounts: the check of the API token of the
// same name and the account in one transaction.
func (s *Store) AddAccount(ctx context.Context, a store.Account) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAccounts)
		if err != nil {
			return err
		}
		if b.Get([]byte(a.Name)) != nil {
			return fmt.Errorf("name: %w", store.ErrExists)
		}
		if tb := tx.Bucket(bucketAPITokens); tb != nil {
			var t apiTokenRecord
			if err := getJSON(tb, []byte(a.Name), &t); err == nil && t.Role != a.Role {
				return fmt.Errorf("name: %w (an API token of role %s)", store.ErrExists, t.Role)
			}
		}
		a.Venues = slices.Compact(slices.Sorted(slices.Values(a.Venues)))
		return putJSON(b, []byte(a.Name), accountRecord{Account: a, PasswordHash: a.PasswordHash})
	})
	if err != nil {
		return fmt.Errorf("add account %s: %w", a.Name, err)
	}
	return nil
}

// accountRole returns the role of the account called name in tx, "" when
// there is none: AddAPIToken checks it.
func accountRole(tx *bolt.Tx, name string) string {
	b := tx.Bucket(bucketAccounts)
	if b == nil {
		return ""
	}
	var r accountRecord
	if getJSON(b, []byte(name), &r) != nil {
		return ""
	}
	return r.Role
}

// Account implements store.Accounts.
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	var r accountRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b == nil {
			return store.ErrNotFound
		}
		return getJSON(b, []byte(name), &r)
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("account %s: %w", name, err)
	}
	return r.account(), nil
}

// Accounts implements store.Accounts.
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	var out []store.Account
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r accountRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			out = append(out, r.account())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	return out, nil
}

// updateAccount applies fn to the stored account called name in a
// transaction of its own and returns the account as it is after.
func (s *Store) updateAccount(ctx context.Context, name string, fn func(tx *bolt.Tx, r *accountRecord) error) (store.Account, error) {
	var r accountRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b == nil {
			return store.ErrNotFound
		}
		if err := getJSON(b, []byte(name), &r); err != nil {
			return err
		}
		if err := fn(tx, &r); err != nil {
			return err
		}
		return putJSON(b, []byte(name), r)
	})
	if err != nil {
		return store.Account{}, err
	}
	return r.account(), nil
}

// DisableAccount implements store.Accounts.
func (s *Store) DisableAccount(ctx context.Context, name string, now time.Time) (store.Account, error) {
	a, err := s.updateAccount(ctx, name, func(tx *bolt.Tx, r *accountRecord) error {
		if r.Disabled.IsZero() {
			r.Disabled = now
		}
		if sb := tx.Bucket(bucketWebSessions); sb != nil {
			if err := deleteSessions(sb, func(ss store.Session) bool { return ss.Account == name }); err != nil {
				return err
			}
		}
		if tb := tx.Bucket(bucketAPITokens); tb != nil {
			var t apiTokenRecord
			if err := getJSON(tb, []byte(name), &t); err == nil && t.Revoked.IsZero() {
				t.Revoked = now
				return putJSON(tb, []byte(name), t)
			}
		}
		return nil
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("disable account %s: %w", name, err)
	}
	return a, nil
}

// AddAccountVenue implements store.Accounts.
func (s *Store) AddAccountVenue(ctx context.Context, name, venue string) error {
	_, err := s.updateAccount(ctx, name, func(_ *bolt.Tx, r *accountRecord) error {
		if i, found := slices.BinarySearch(r.Venues, venue); !found {
			r.Venues = slices.Insert(r.Venues, i, venue)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("account %s: add venue %s: %w", name, venue, err)
	}
	return nil
}

// RecordSignIn implements store.Accounts.
func (s *Store) RecordSignIn(ctx context.Context, name string, ok bool, now time.Time, maxFailures int, lockFor time.Duration) (store.Account, error) {
	a, err := s.updateAccount(ctx, name, func(_ *bolt.Tx, r *accountRecord) error {
		switch {
		case ok:
			r.Failures = 0
		case r.Failures+1 >= maxFailures:
			r.Failures = 0
			r.LockedUntil = now.Add(lockFor)
		default:
			r.Failures++
		}
		return nil
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("account %s: record sign-in: %w", name, err)
	}
	return a, nil
}

// AddSession implements store.Accounts.
func (s *Store) AddSession(ctx context.Context, ss store.Session) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		ab := tx.Bucket(bucketAccounts)
		if ab == nil || ab.Get([]byte(ss.Account)) == nil {
			return fmt.Errorf("account %s: %w", ss.Account, store.ErrNotFound)
		}
		b, err := tx.CreateBucketIfNotExists(bucketWebSessions)
		if err != nil {
			return err
		}
		if b.Get(ss.Hash[:]) != nil {
			return fmt.Errorf("hash: %w", store.ErrExists)
		}
		return putJSON(b, ss.Hash[:], sessionRecord{Session: ss, Hash: ss.Hash[:]})
	})
	if err != nil {
		return fmt.Errorf("add session of %s: %w", ss.Account, err)
	}
	return nil
}

// Session implements store.Accounts.
func (s *Store) Session(ctx context.Context, h [32]byte) (store.Session, error) {
	var r sessionRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWebSessions)
		if b == nil {
			return store.ErrNotFound
		}
		return getJSON(b, h[:], &r)
	})
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	return r.session(), nil
}

// TouchSession implements store.Accounts.
func (s *Store) TouchSession(ctx context.Context, h [32]byte, now time.Time) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWebSessions)
		if b == nil {
			return store.ErrNotFound
		}
		var r sessionRecord
		if err := getJSON(b, h[:], &r); err != nil {
			return err
		}
		if !now.After(r.LastSeen) {
			return nil
		}
		r.LastSeen = now
		return putJSON(b, h[:], r)
	})
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession implements store.Accounts.
func (s *Store) DeleteSession(ctx context.Context, h [32]byte) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWebSessions)
		if b == nil {
			return nil
		}
		return b.Delete(h[:])
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions implements store.Accounts.
func (s *Store) DeleteExpiredSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0 // the closure may run again
		b := tx.Bucket(bucketWebSessions)
		if b == nil {
			return nil
		}
		return deleteSessions(b, func(ss store.Session) bool {
			old := ss.LastSeen.Before(idleBefore) || ss.Created.Before(createdBefore)
			if old {
				n++
			}
			return old
		})
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// deleteSessions deletes the sessions of b for which del is true.
func deleteSessions(b *bolt.Bucket, del func(store.Session) bool) error {
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var r sessionRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("session %x: %w", k, err)
		}
		if del(r.session()) {
			keys = append(keys, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
