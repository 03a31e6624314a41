package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// The named API tokens' buckets, made by the first token added (a file of
// an older binary has none until then):
//
//	api-tokens         name → apiTokenRecord (JSON)
//	api-token-hashes   SHA-256 of the token → name
var (
	bucketAPITokens      = []byte("api-tokens")
	bucketAPITokenHashes = []byte("api-token-hashes")
)

// apiTokenRecord is a store.APIToken as stored, hash included.
type apiTokenRecord struct {
	store.APIToken
	Hash []byte `json:"hash"`
}

func (r apiTokenRecord) token() store.APIToken {
	t := r.APIToken
	copy(t.Hash[:], r.Hash)
	return t
}

// AddAPIToken implements store.APITokens: the token and its hash's index
// entry in one transaction.
func (s *Store) AddAPIToken(ctx context.Context, t store.APIToken) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		nb, err := tx.CreateBucketIfNotExists(bucketAPITokens)
		if err != nil {
			return err
		}
		hb, err := tx.CreateBucketIfNotExists(bucketAPITokenHashes)
		if err != nil {
			return err
		}
		if nb.Get([]byte(t.Name)) != nil {
			return fmt.Errorf("name: %w", store.ErrExists)
		}
		if hb.Get(t.Hash[:]) != nil {
			return fmt.Errorf("hash: %w", store.ErrExists)
		}
		if r := accountRole(tx, t.Name); r != "" && r != t.Role { // one namespace: account.go
			return fmt.Errorf("name: %w (an account of role %s)", store.ErrExists, r)
		}
		if err := hb.Put(t.Hash[:], []byte(t.Name)); err != nil {
			return err
		}
		return putJSON(nb, []byte(t.Name), apiTokenRecord{APIToken: t, Hash: t.Hash[:]})
	})
	if err != nil {
		return fmt.Errorf("add API token %s: %w", t.Name, err)
	}
	return nil
}

// APITokenByHash implements store.APITokens.
func (s *Store) APITokenByHash(ctx context.Context, h [32]byte) (store.APIToken, error) {
	var r apiTokenRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		hb, nb := tx.Bucket(bucketAPITokenHashes), tx.Bucket(bucketAPITokens)
		if hb == nil || nb == nil {
			return store.ErrNotFound
		}
		name := hb.Get(h[:])
		if name == nil {
			return store.ErrNotFound
		}
		return getJSON(nb, name, &r)
	})
	if err != nil {
		return store.APIToken{}, fmt.Errorf("API token: %w", err)
	}
	return r.token(), nil
}

// APITokens implements store.APITokens.
func (s *Store) APITokens(ctx context.Context) ([]store.APIToken, error) {
	var out []store.APIToken
	err := s.view(ctx, func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketAPITokens)
		if nb == nil {
			return nil
		}
		return nb.ForEach(func(k, v []byte) error {
			var r apiTokenRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			out = append(out, r.token())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("API tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken implements store.APITokens.
func (s *Store) RevokeAPIToken(ctx context.Context, name string, now time.Time) (store.APIToken, error) {
	var r apiTokenRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		nb := tx.Bucket(bucketAPITokens)
		if nb == nil {
			return store.ErrNotFound
		}
		if err := getJSON(nb, []byte(name), &r); err != nil {
			return err
		}
		if !r.Revoked.IsZero() {
			return nil
		}
		r.Revoked = now
		return putJSON(nb, []byte(name), r)
	})
	if err != nil {
		return store.APIToken{}, fmt.Errorf("revoke API token %s: %w", name, err)
	}
	return r.token(), nil
}
