package kiosk

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/anshim/anshim/checkin"
	bolt "go.etcd.io/bbolt"
)

// OutboxStats summarises an outbox after verifying it.
type OutboxStats struct {
	Records   int    `json:"records"`
	FirstSeq  uint64 `json:"first_seq"`
	LastSeq   uint64 `json:"last_seq"`
	NextSeq   uint64 `json:"next_seq"`
	ChainOK   bool   `json:"chain_ok"`
	Destroyed uint64 `json:"destroyed"`
	// Problem says what is wrong with the chain when ChainOK is false.
	Problem string `json:"problem,omitempty"`
}

// Verify walks the records from the chain base, recomputing every link, and
// checks that sequences are consecutive, that each record decodes and
// belongs to this device, and that the stored head matches the recomputed
// chain and carries a valid signature by pub.
func (o *Outbox) Verify(pub ed25519.PublicKey) (OutboxStats, error) {
	var st OutboxStats
	err := o.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		st.NextSeq = binary.BigEndian.Uint64(m.Get(keyNextSeq))
		st.Destroyed = binary.BigEndian.Uint64(m.Get(keyDestroyed))
		baseSeq, h := decodeBase(m.Get(keyBase))
		want := baseSeq + 1
		fail := func(format string, args ...any) {
			if st.Problem == "" {
				st.Problem = fmt.Sprintf(format, args...)
			}
		}
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if st.Records == 0 {
				st.FirstSeq = seq
			}
			st.LastSeq = seq
			st.Records++
			if seq != want {
				fail("sequence %d follows %d", seq, want-1)
			}
			want = seq + 1
			r, err := checkin.Decode(v)
			if err != nil {
				fail("record %d: %v", seq, err)
				continue
			}
			if r.Seq != seq || r.Device != o.device {
				fail("record %d: stored under the wrong key or device", seq)
			}
			h = checkin.Next(h, v)
		}
		if st.Records > 0 && st.NextSeq != st.LastSeq+1 {
			fail("next sequence %d after last record %d", st.NextSeq, st.LastSeq)
		}
		if hv := m.Get(keyHead); hv != nil {
			var head checkin.Head
			if err := head.UnmarshalBinary(hv); err != nil {
				fail("chain head: %v", err)
			} else {
				if head.Seq != st.NextSeq-1 {
					fail("chain head at %d, last sequence %d", head.Seq, st.NextSeq-1)
				}
				if head.Hash != h {
					fail("chain head hash does not match the records")
				}
				if err := head.Verify(pub, o.device); err != nil {
					fail("%v", err)
				}
			}
		} else if st.NextSeq != 1 {
			fail("no chain head after %d records", st.NextSeq-1)
		}
		return nil
	})
	st.ChainOK = st.Problem == ""
	if err != nil {
		return st, fmt.Errorf("verify outbox: %w", err)
	}
	return st, nil
}

// Pending returns the number of records waiting in the outbox.
func (o *Outbox) Pending() (int, error) {
	var n int
	err := o.db.View(func(tx *bolt.Tx) error {
		// Records are exactly base+1 .. next-1: count without touching
		// every page (which would pull the whole file into memory).
		m := tx.Bucket(bucketMeta)
		base, _ := decodeBase(m.Get(keyBase))
		n = int(binary.BigEndian.Uint64(m.Get(keyNextSeq)) - 1 - base)
		return nil
	})
	return n, err
}

// Base returns the chain state before the oldest record kept: the sequence
// and hash of the last record acknowledged or destroyed (0 and the genesis
// hash at first).
func (o *Outbox) Base() (uint64, checkin.Hash, error) {
	var seq uint64
	var h checkin.Hash
	err := o.db.View(func(tx *bolt.Tx) error {
		seq, h = decodeBase(tx.Bucket(bucketMeta).Get(keyBase))
		return nil
	})
	return seq, h, err
}

// Scan calls fn for each record in sequence order with sequence ≥ from, with
// its canonical bytes (valid only during the call), until fn returns false.
func (o *Outbox) Scan(from uint64, fn func(seq uint64, canonical []byte) bool) error {
	return o.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.Seek(u64(from)); k != nil; k, v = c.Next() {
			if !fn(binary.BigEndian.Uint64(k), v) {
				return nil
			}
		}
		return nil
	})
}

// Ack removes the records up to and including seq, which the central has
// acknowledged, and moves the chain base past them.
func (o *Outbox) Ack(seq uint64) (int, error) {
	return o.removeFront(func(s uint64, _ []byte) bool { return s <= seq }, nil)
}

// DestroyExpired destroys records older than maxAge that were never synced
// (the 28-day retention applies on the device too) and returns how many. A
// record's age counts by the monotonic clock within one boot, otherwise by
// wall clocks that were both trusted; a record whose age cannot be known is
// kept. Debounce entries past any window are pruned too.
func (o *Outbox) DestroyExpired(now Stamp, maxAge, debounceWindow time.Duration) (int, error) {
	n, err := o.removeFront(func(_ uint64, v []byte) bool {
		r, err := checkin.Decode(v)
		if err != nil {
			return false
		}
		age, ok := Stamp{Wall: r.Wall, Quality: r.Quality, Boot: r.Boot, Mono: r.Mono}.Since(now)
		return ok && age > maxAge
	}, keyDestroyed)
	if err != nil {
		return n, err
	}
	err = o.db.Update(func(tx *bolt.Tx) error {
		d := tx.Bucket(bucketDebounce)
		var stale [][]byte
		d.ForEach(func(k, v []byte) error {
			s, _ := decodeStamp(v)
			if age, ok := s.Since(now); !ok || age > debounceWindow || age < 0 {
				stale = append(stale, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range stale {
			if err := d.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("prune debounce: %w", err)
	}
	return n, nil
}

// removeFront deletes records from the oldest while drop says so, moving the
// chain base, and adds the count to counter when it is not nil.
func (o *Outbox) removeFront(dropFn func(seq uint64, v []byte) bool, counter []byte) (int, error) {
	n := 0
	err := o.db.Update(func(tx *bolt.Tx) error {
		n = 0
		m := tx.Bucket(bucketMeta)
		baseSeq, h := decodeBase(m.Get(keyBase))
		// Walk first, delete after: re-seeking the first key after each
		// delete gets slower with every emptied page in the transaction.
		recs := tx.Bucket(bucketRecords)
		var drop [][]byte
		c := recs.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if !dropFn(seq, v) {
				break
			}
			h = checkin.Next(h, v)
			baseSeq = seq
			drop = append(drop, bytes.Clone(k))
		}
		for _, k := range drop {
			if err := recs.Delete(k); err != nil {
				return err
			}
		}
		n = len(drop)
		if n == 0 {
			return nil
		}
		heads := tx.Bucket(bucketHeads)
		// The new base is the chain as the device signed it when it
		// committed, not as recomputed from the stored bytes: a record
		// edited on disk must not poison every later batch.
		if hv := heads.Get(u64(baseSeq)); hv != nil {
			var sh checkin.Head
			if err := sh.UnmarshalBinary(hv); err == nil && sh.Seq == baseSeq {
				h = sh.Hash
			}
		}
		var oldHeads [][]byte
		hc := heads.Cursor()
		for k, _ := hc.First(); k != nil && binary.BigEndian.Uint64(k) <= baseSeq; k, _ = hc.Next() {
			oldHeads = append(oldHeads, bytes.Clone(k))
		}
		for _, k := range oldHeads {
			if err := heads.Delete(k); err != nil {
				return err
			}
		}
		if err := m.Put(keyBase, append(u64(baseSeq), h[:]...)); err != nil {
			return err
		}
		if counter != nil {
			return m.Put(counter, u64(binary.BigEndian.Uint64(m.Get(counter))+uint64(n)))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("remove records: %w", err)
	}
	return n, nil
}

// Batch is a run of consecutive records ready to send: the chain hash
// before the first, the canonical records, and the head signed when the
// last of them was committed.
type Batch struct {
	Prev    checkin.Hash
	Records [][]byte
	Head    checkin.Head
}

// FirstSeq returns the sequence of the batch's first record.
func (b *Batch) FirstSeq() uint64 { return b.Head.Seq - uint64(len(b.Records)) + 1 }

// ReadBatch returns the records after sequence after, up to maxBytes of
// canonical record bytes (at least one commit's worth), ending at a commit
// whose signed head is kept. It returns a nil Batch when nothing is waiting
// after that sequence. The chain is not recomputed here: a record edited
// on disk goes out with the head signed before the edit, and the central
// sees the mismatch.
func (o *Outbox) ReadBatch(after uint64, maxBytes int) (*Batch, error) {
	var b *Batch
	err := o.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		baseSeq, baseHash := decodeBase(m.Get(keyBase))
		if after < baseSeq {
			after = baseSeq
		}
		heads := tx.Bucket(bucketHeads)
		var prev checkin.Hash
		if after == baseSeq {
			prev = baseHash
		} else {
			var h checkin.Head
			v := heads.Get(u64(after))
			if v == nil || h.UnmarshalBinary(v) != nil {
				return fmt.Errorf("read batch: no signed head at %d: batches must end at a commit", after)
			}
			prev = h.Hash
		}
		var recs [][]byte
		var last *checkin.Head
		size, n := 0, 0
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if seq != after+uint64(len(recs))+1 {
				return fmt.Errorf("read batch: %w: sequence %d missing", ErrCorrupt, after+uint64(len(recs))+1)
			}
			if size+len(v) > maxBytes && last != nil {
				break
			}
			recs = append(recs, bytes.Clone(v))
			size += len(v)
			if hv := heads.Get(k); hv != nil {
				var h checkin.Head
				if err := h.UnmarshalBinary(hv); err != nil {
					return fmt.Errorf("read batch: head %d: %w", seq, err)
				}
				last, n = &h, len(recs)
			}
		}
		if last != nil {
			b = &Batch{Prev: prev, Records: recs[:n], Head: *last}
		}
		return nil
	})
	return b, err
}
