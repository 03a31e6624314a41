package boltstore

// The identity vault's buckets, made by the first write to the vault (a
// file of an older binary has none until then):
//
//	persons             person id → person (see encodePerson)
//	persons-index       blind index (32) → person id
//	persons-pseudonym   pseudonym (16) → person id
//	persons-idle        last use (Unix ns u64 with the sign bit flipped) ‖ person id → empty
//	persons-destroyed   person id → time of destruction, Unix ns i64 (the tombstone)
//
// persons-idle sorts persons by last use, so that DestroyPersons reads only
// the persons it destroys. A destroyed person's values are deleted; bbolt
// reuses their pages but does not overwrite them at once, so the sealed
// identity may stay in the file's free pages until then (sealed under a key
// that the file does not hold).

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

var (
	bucketPersons    = []byte("persons")
	bucketPersonIdx  = []byte("persons-index")
	bucketPersonPsd  = []byte("persons-pseudonym")
	bucketPersonIdle = []byte("persons-idle")
	bucketPersonGone = []byte("persons-destroyed")
)

// vaultBuckets are the vault's buckets in a transaction.
type vaultBuckets struct {
	persons, index, pseudonym, idle, destroyed *bolt.Bucket
}

// vaultView returns the vault's buckets, or ok false if the file has none
// yet (no person was ever added).
func vaultView(tx *bolt.Tx) (b vaultBuckets, ok bool) {
	b = vaultBuckets{
		persons:   tx.Bucket(bucketPersons),
		index:     tx.Bucket(bucketPersonIdx),
		pseudonym: tx.Bucket(bucketPersonPsd),
		idle:      tx.Bucket(bucketPersonIdle),
		destroyed: tx.Bucket(bucketPersonGone),
	}
	return b, b.persons != nil && b.index != nil && b.pseudonym != nil && b.idle != nil && b.destroyed != nil
}

// vaultUpdate returns the vault's buckets in a writable transaction,
// creating them if needed.
func vaultUpdate(tx *bolt.Tx) (vaultBuckets, error) {
	var bs [5]*bolt.Bucket
	for i, name := range [][]byte{bucketPersons, bucketPersonIdx, bucketPersonPsd, bucketPersonIdle, bucketPersonGone} {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return vaultBuckets{}, err
		}
		bs[i] = b
	}
	return vaultBuckets{bs[0], bs[1], bs[2], bs[3], bs[4]}, nil
}

// get returns the person with the id: store.ErrDestroyed for a tombstone,
// store.ErrNotFound if there is none.
func (b vaultBuckets) get(id string) (store.Person, error) {
	v := b.persons.Get([]byte(id))
	if v == nil {
		if b.destroyed.Get([]byte(id)) != nil {
			return store.Person{}, store.ErrDestroyed
		}
		return store.Person{}, store.ErrNotFound
	}
	return decodePerson(id, v)
}

// getBy returns the person whose id is the value of k in the lookup bucket.
func (b vaultBuckets) getBy(lookup *bolt.Bucket, k []byte) (store.Person, error) {
	id := lookup.Get(k)
	if id == nil {
		return store.Person{}, store.ErrNotFound
	}
	return b.get(string(id))
}

// put stores p, moving its entry in persons-idle from the last use old
// (zero for a new person).
func (b vaultBuckets) put(p store.Person, old time.Time) error {
	v, err := encodePerson(p)
	if err != nil {
		return err
	}
	if !old.IsZero() {
		if err := b.idle.Delete(idleKey(old, p.ID)); err != nil {
			return err
		}
	}
	if err := b.idle.Put(idleKey(p.LastUsed, p.ID), nil); err != nil {
		return err
	}
	return b.persons.Put([]byte(p.ID), v)
}

// idleKey is a key of persons-idle: the time sorts as a signed number.
func idleKey(t time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), timeBits(t)^1<<63)
	return append(k, id...)
}

// checkPerson checks what AddPerson needs of p.
func checkPerson(p store.Person) error {
	switch {
	case p.ID == "" || len(p.ID) > 64:
		return fmt.Errorf("id of %d bytes, want 1 to 64", len(p.ID))
	case len(p.Sealed) == 0 || len(p.Sealed) > math.MaxUint16:
		return fmt.Errorf("sealed identity of %d bytes", len(p.Sealed))
	case p.Created.IsZero() || p.LastUsed.IsZero():
		return errors.New("created or last used time not set")
	}
	return nil
}

// AddPerson implements store.Vault.
func (s *Store) AddPerson(ctx context.Context, p store.Person) error {
	if err := checkPerson(p); err != nil {
		return fmt.Errorf("add person: %w", err)
	}
	p.Cards = nil
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := vaultUpdate(tx)
		if err != nil {
			return err
		}
		switch {
		case b.persons.Get([]byte(p.ID)) != nil || b.destroyed.Get([]byte(p.ID)) != nil:
			return &store.ExistsError{Field: "id"}
		case b.pseudonym.Get(p.Pseudonym[:]) != nil:
			return &store.ExistsError{Field: "pseudonym"}
		case b.index.Get(p.Index[:]) != nil:
			return &store.ExistsError{Field: "index"}
		}
		if err := b.pseudonym.Put(p.Pseudonym[:], []byte(p.ID)); err != nil {
			return err
		}
		if err := b.index.Put(p.Index[:], []byte(p.ID)); err != nil {
			return err
		}
		return b.put(p, time.Time{})
	})
	if err != nil {
		return fmt.Errorf("add person %s: %w", p.ID, err)
	}
	return nil
}

// Person implements store.Vault.
func (s *Store) Person(ctx context.Context, id string) (store.Person, error) {
	p, err := s.viewPerson(ctx, func(b vaultBuckets) (store.Person, error) { return b.get(id) })
	if err != nil {
		return store.Person{}, fmt.Errorf("person %s: %w", id, err)
	}
	return p, nil
}

// PersonByIndex implements store.Vault.
func (s *Store) PersonByIndex(ctx context.Context, index [32]byte) (store.Person, error) {
	p, err := s.viewPerson(ctx, func(b vaultBuckets) (store.Person, error) { return b.getBy(b.index, index[:]) })
	if err != nil {
		return store.Person{}, fmt.Errorf("person by blind index: %w", err)
	}
	return p, nil
}

// PersonByPseudonym implements store.Vault.
func (s *Store) PersonByPseudonym(ctx context.Context, pseudonym [16]byte) (store.Person, error) {
	p, err := s.viewPerson(ctx, func(b vaultBuckets) (store.Person, error) { return b.getBy(b.pseudonym, pseudonym[:]) })
	if err != nil {
		return store.Person{}, fmt.Errorf("person by pseudonym: %w", err)
	}
	return p, nil
}

func (s *Store) viewPerson(ctx context.Context, get func(vaultBuckets) (store.Person, error)) (store.Person, error) {
	var p store.Person
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b, ok := vaultView(tx)
		if !ok {
			return store.ErrNotFound
		}
		var err error
		p, err = get(b)
		return err
	})
	return p, err
}

// updatePerson runs fn on the person with the id in a writable
// transaction and stores the person as fn left it.
func (s *Store) updatePerson(ctx context.Context, id string, fn func(p *store.Person) error) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, err := vaultUpdate(tx)
		if err != nil {
			return err
		}
		p, err := b.get(id)
		if err != nil {
			return err
		}
		old := p.LastUsed
		if err := fn(&p); err != nil {
			return err
		}
		return b.put(p, old)
	})
}

// TouchPerson implements store.Vault.
func (s *Store) TouchPerson(ctx context.Context, id string, now time.Time) error {
	err := s.updatePerson(ctx, id, func(p *store.Person) error {
		if now.After(p.LastUsed) {
			p.LastUsed = now
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("touch person %s: %w", id, err)
	}
	return nil
}

// AddCard implements store.Vault.
func (s *Store) AddCard(ctx context.Context, id string, now time.Time) (store.Card, []store.Card, error) {
	var card store.Card
	var earlier []store.Card
	err := s.updatePerson(ctx, id, func(p *store.Person) error {
		card = store.Card{Serial: 1, Issued: now}
		if n := len(p.Cards); n > 0 {
			if p.Cards[n-1].Serial == math.MaxUint32 {
				return errors.New("no card serial left")
			}
			card.Serial = p.Cards[n-1].Serial + 1
		}
		earlier = slices.Clone(p.Cards)
		for i := range p.Cards {
			p.Cards[i].Revoked = true
		}
		p.Cards = append(p.Cards, card)
		if now.After(p.LastUsed) {
			p.LastUsed = now
		}
		return nil
	})
	if err != nil {
		return store.Card{}, nil, fmt.Errorf("add card of person %s: %w", id, err)
	}
	return card, earlier, nil
}

// RevokeCard implements store.Vault.
func (s *Store) RevokeCard(ctx context.Context, id string, serial uint32) error {
	err := s.updatePerson(ctx, id, func(p *store.Person) error {
		for i := range p.Cards {
			if p.Cards[i].Serial == serial {
				p.Cards[i].Revoked = true
				return nil
			}
		}
		return fmt.Errorf("card %d: %w", serial, store.ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("revoke card of person %s: %w", id, err)
	}
	return nil
}

// DestroyPersons implements store.Vault.
func (s *Store) DestroyPersons(ctx context.Context, cutoff, now time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		b, err := vaultUpdate(tx)
		if err != nil {
			return err
		}
		// Collect first: deleting under a cursor skips keys.
		end := idleKey(cutoff, "")
		var ids []string
		c := b.idle.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) <= 0; k, _ = c.Next() {
			ids = append(ids, string(k[8:]))
		}
		for _, id := range ids {
			p, err := b.get(id)
			if err != nil {
				return fmt.Errorf("person %s: %w", id, err)
			}
			for _, del := range []struct {
				b *bolt.Bucket
				k []byte
			}{
				{b.persons, []byte(id)},
				{b.index, p.Index[:]},
				{b.pseudonym, p.Pseudonym[:]},
				{b.idle, idleKey(p.LastUsed, id)},
			} {
				if err := del.b.Delete(del.k); err != nil {
					return err
				}
			}
			if err := b.destroyed.Put([]byte(id), encodeTime(now)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("destroy persons unused since %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// personVersion heads an encoded person:
//
//	version   u8 = 1
//	pseudonym 16, index 32
//	created, last used: i64 Unix ns each
//	sealed    u16 len + bytes
//	cards     u32 count, then per card: serial u32, issued i64 Unix ns, revoked u8
//
// Binary, not JSON: the sealed identity is in the file as it is, so that a
// search of the file's bytes for a name or a phone number means something.
const personVersion = 1

const personFixed = 1 + 16 + 32 + 8 + 8 + 2

func encodePerson(p store.Person) ([]byte, error) {
	if len(p.Sealed) > math.MaxUint16 {
		return nil, fmt.Errorf("sealed identity of %d bytes", len(p.Sealed))
	}
	v := make([]byte, 0, personFixed+len(p.Sealed)+4+13*len(p.Cards))
	v = append(v, personVersion)
	v = append(v, p.Pseudonym[:]...)
	v = append(v, p.Index[:]...)
	v = binary.BigEndian.AppendUint64(v, timeBits(p.Created))
	v = binary.BigEndian.AppendUint64(v, timeBits(p.LastUsed))
	v = binary.BigEndian.AppendUint16(v, uint16(len(p.Sealed)))
	v = append(v, p.Sealed...)
	v = binary.BigEndian.AppendUint32(v, uint32(len(p.Cards)))
	for _, c := range p.Cards {
		v = binary.BigEndian.AppendUint32(v, c.Serial)
		v = binary.BigEndian.AppendUint64(v, timeBits(c.Issued))
		revoked := byte(0)
		if c.Revoked {
			revoked = 1
		}
		v = append(v, revoked)
	}
	return v, nil
}

func decodePerson(id string, v []byte) (store.Person, error) {
	bad := fmt.Errorf("corrupt value of %d bytes", len(v))
	if len(v) < personFixed || v[0] != personVersion {
		return store.Person{}, bad
	}
	p := store.Person{ID: id}
	copy(p.Pseudonym[:], v[1:17])
	copy(p.Index[:], v[17:49])
	p.Created = timeFromBits(binary.BigEndian.Uint64(v[49:]))
	p.LastUsed = timeFromBits(binary.BigEndian.Uint64(v[57:]))
	m := int(binary.BigEndian.Uint16(v[65:]))
	rest := v[personFixed:]
	if len(rest) < m+4 {
		return store.Person{}, bad
	}
	p.Sealed = bytes.Clone(rest[:m])
	n := binary.BigEndian.Uint32(rest[m:])
	rest = rest[m+4:]
	if uint64(len(rest)) != 13*uint64(n) {
		return store.Person{}, bad
	}
	if n > 0 {
		p.Cards = make([]store.Card, n)
	}
	for i := range p.Cards {
		c := rest[13*i:]
		p.Cards[i] = store.Card{
			Serial:  binary.BigEndian.Uint32(c),
			Issued:  timeFromBits(binary.BigEndian.Uint64(c[4:])),
			Revoked: c[12] == 1,
		}
	}
	return p, nil
}
