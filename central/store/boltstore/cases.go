package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// The console's cases' buckets, made by the first case added (a file of
// an older binary has none until then):
//
//	cases         id u64 (bucket sequence) → caseRecord (JSON)
//	case-traces   case id u64 ‖ trace id → caseTraceRecord (JSON)
//	case-trace-ids trace id → nil
var (
	bucketCases        = []byte("cases")
	bucketCaseTraces   = []byte("case-traces")
	bucketCaseTraceIDs = []byte("case-trace-ids")
)

// caseRecord is a store.Case as stored.
type caseRecord struct {
	Ref    string    `json:"ref"`
	Opener string    `json:"opener"`
	Opened time.Time `json:"opened"`
	Closed time.Time `json:"closed,omitzero"`
	Closer string    `json:"closer,omitempty"`
}

// caseTraceRecord is a store.CaseTrace as stored; the key orders a case's
// traces by Seq (the bucket's sequence), so by when they were added.
type caseTraceRecord struct {
	ID      string    `json:"id"`
	Who     string    `json:"who"`
	Created time.Time `json:"created"`
	Params  []byte    `json:"params"`
}

func caseKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func (r caseRecord) caseOf(id uint64) store.Case {
	return store.Case{ID: id, Ref: r.Ref, Opener: r.Opener, Opened: r.Opened, Closed: r.Closed, Closer: r.Closer}
}

// AddCase implements store.Cases.
func (s *Store) AddCase(ctx context.Context, c store.Case) (uint64, error) {
	var id uint64
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketCases)
		if err != nil {
			return err
		}
		if id, err = b.NextSequence(); err != nil {
			return err
		}
		return putJSON(b, caseKey(id), caseRecord{Ref: c.Ref, Opener: c.Opener, Opened: c.Opened.UTC()})
	})
	if err != nil {
		return 0, fmt.Errorf("add case: %w", err)
	}
	return id, nil
}

func getCase(tx *bolt.Tx, id uint64) (caseRecord, error) {
	var r caseRecord
	b := tx.Bucket(bucketCases)
	if b == nil || b.Get(caseKey(id)) == nil {
		return r, store.ErrNotFound
	}
	return r, getJSON(b, caseKey(id), &r)
}

// Case implements store.Cases.
func (s *Store) Case(ctx context.Context, id uint64) (store.Case, error) {
	var r caseRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		r, err = getCase(tx, id)
		return err
	})
	if err != nil {
		return store.Case{}, fmt.Errorf("case %d: %w", id, err)
	}
	return r.caseOf(id), nil
}

// OpenCases implements store.Cases.
func (s *Store) OpenCases(ctx context.Context) ([]store.Case, error) {
	var out []store.Case
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCases)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r caseRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("case %x: %w", k, err)
			}
			if r.Closed.IsZero() {
				out = append(out, r.caseOf(binary.BigEndian.Uint64(k)))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open cases: %w", err)
	}
	return out, nil
}

// CloseCase implements store.Cases.
func (s *Store) CloseCase(ctx context.Context, id uint64, who string, now time.Time) (store.Case, error) {
	var r caseRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var err error
		if r, err = getCase(tx, id); err != nil {
			return err
		}
		if !r.Closed.IsZero() {
			return nil
		}
		r.Closed, r.Closer = now.UTC(), who
		return putJSON(tx.Bucket(bucketCases), caseKey(id), r)
	})
	if err != nil {
		return store.Case{}, fmt.Errorf("close case %d: %w", id, err)
	}
	return r.caseOf(id), nil
}

// DropCaseTraces implements store.Cases.
func (s *Store) DropCaseTraces(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketCaseTraces)
		if b == nil {
			return nil
		}
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var r caseTraceRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("trace %x: %w", k, err)
			}
			if r.Created.Before(before) {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("drop traces before %s: %w", before.Format(time.RFC3339), err)
	}
	return n, nil
}

// AddCaseTrace implements store.Cases.
func (s *Store) AddCaseTrace(ctx context.Context, t store.CaseTrace) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getCase(tx, t.Case); err != nil {
			return err
		}
		ids, err := tx.CreateBucketIfNotExists(bucketCaseTraceIDs)
		if err != nil {
			return err
		}
		if ids.Get([]byte(t.ID)) != nil {
			return store.ErrExists
		}
		b, err := tx.CreateBucketIfNotExists(bucketCaseTraces)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := ids.Put([]byte(t.ID), nil); err != nil {
			return err
		}
		k := binary.BigEndian.AppendUint64(caseKey(t.Case), seq)
		return putJSON(b, k, caseTraceRecord{ID: t.ID, Who: t.Who, Created: t.Created.UTC(), Params: bytes.Clone(t.Params)})
	})
	if err != nil {
		return fmt.Errorf("add trace %s of case %d: %w", t.ID, t.Case, err)
	}
	return nil
}

// CaseTraces implements store.Cases.
func (s *Store) CaseTraces(ctx context.Context, id uint64) ([]store.CaseTrace, error) {
	out := []store.CaseTrace{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCaseTraces)
		if b == nil {
			return nil
		}
		prefix := caseKey(id)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r caseTraceRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("trace %x: %w", k, err)
			}
			out = append(out, store.CaseTrace{ID: r.ID, Case: id, Who: r.Who, Created: r.Created, Params: r.Params})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("traces of case %d: %w", id, err)
	}
	return out, nil
}
