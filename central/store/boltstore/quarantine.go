package boltstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// The quarantine: entries by id, an index by device and one by day, so that
// DropQuarantine deletes a day's entries without reading the others.
var (
	bucketQuarDays = []byte("quarantine-days") // "YYYYMMDD" → { id u64 → nil }
	// keyQuarantineV2 in meta marks a file whose quarantine entries all
	// have a day (upgradeQuarantine ran).
	keyQuarantineV2 = []byte("quarantine-v2")
)

// quarantineHeader is the JSON part of a stored quarantine entry; the
// payload follows it raw.
type quarantineHeader struct {
	Device   string    `json:"device"`
	Subject  string    `json:"subject"`
	Reason   string    `json:"reason"`
	Detail   string    `json:"detail"`
	Received time.Time `json:"received"`
	Day      string    `json:"day,omitempty"` // YYYYMMDD (KST); "" before upgradeQuarantine
	First    uint64    `json:"first,omitempty"`
	Last     uint64    `json:"last,omitempty"`
	Sum      []byte    `json:"sum,omitempty"`
	Size     int       `json:"size,omitempty"`
}

// quarantineDay is the day key of an entry: its Day, or Received's day.
func quarantineDay(q store.Quarantine) []byte {
	if q.Day.IsZero() {
		return dayKey(q.Received)
	}
	return dayKey(q.Day)
}

func addQuarantine(tx *bolt.Tx, q store.Quarantine) (uint64, error) {
	qb := tx.Bucket(bucketQuarantine)
	id, err := qb.NextSequence()
	if err != nil {
		return 0, err
	}
	d := quarantineDay(q)
	h, err := json.Marshal(quarantineHeader{q.Device, q.Subject, q.Reason, q.Detail, q.Received,
		string(d), q.First, q.Last, q.Sum[:], q.Size})
	if err != nil {
		return 0, err
	}
	v := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(h)+len(q.Payload)), uint32(len(h)))
	v = append(append(v, h...), q.Payload...)
	k := binary.BigEndian.AppendUint64(nil, id)
	if err := qb.Put(k, v); err != nil {
		return 0, err
	}
	if err := tx.Bucket(bucketQuarByDev).Put(append(deviceKey(q.Device, 8), k...), nil); err != nil {
		return 0, err
	}
	return id, indexQuarantineDay(tx, d, k)
}

func indexQuarantineDay(tx *bolt.Tx, d, id []byte) error {
	days, err := tx.CreateBucketIfNotExists(bucketQuarDays)
	if err != nil {
		return err
	}
	b, err := days.CreateBucketIfNotExists(d)
	if err != nil {
		return err
	}
	return b.Put(id, nil)
}

// decodeHeader returns the header and payload of a stored entry.
func decodeHeader(k, v []byte) (quarantineHeader, []byte, error) {
	var h quarantineHeader
	if len(k) != 8 || len(v) < 4 || uint64(len(v)-4) < uint64(binary.BigEndian.Uint32(v)) {
		return h, nil, fmt.Errorf("quarantine entry %x: corrupt", k)
	}
	n := binary.BigEndian.Uint32(v)
	if err := json.Unmarshal(v[4:4+n], &h); err != nil {
		return h, nil, fmt.Errorf("quarantine entry %x: %w", k, err)
	}
	return h, v[4+n:], nil
}

func decodeQuarantine(k, v []byte) (store.Quarantine, error) {
	h, payload, err := decodeHeader(k, v)
	if err != nil {
		return store.Quarantine{}, err
	}
	q := store.Quarantine{
		ID:       binary.BigEndian.Uint64(k),
		Device:   h.Device,
		Subject:  h.Subject,
		Reason:   h.Reason,
		Detail:   h.Detail,
		Received: h.Received,
		First:    h.First,
		Last:     h.Last,
		Size:     h.Size,
		Payload:  bytes.Clone(payload),
	}
	if t, err := time.ParseInLocation("20060102", h.Day, kst); err == nil {
		q.Day = t.UTC()
	}
	copy(q.Sum[:], h.Sum)
	return q, nil
}

// upgradeQuarantine gives every entry stored before entries had a day
// (their payload sealed to the province's key, kept forever) the day it
// was received, its hash and size, and clears its payload: a payload the
// province's key opens is not kept. It runs once per file, in Open.
func upgradeQuarantine(tx *bolt.Tx) error {
	m := tx.Bucket(bucketMeta)
	if m.Get(keyQuarantineV2) != nil {
		return nil
	}
	qb := tx.Bucket(bucketQuarantine)
	type entry struct{ k, v []byte }
	var old []entry
	err := qb.ForEach(func(k, v []byte) error {
		h, payload, err := decodeHeader(k, v)
		if err != nil {
			return err
		}
		if h.Day != "" {
			return nil
		}
		sum := sha256.Sum256(payload)
		h.Day, h.Sum, h.Size = string(dayKey(h.Received)), sum[:], len(payload)
		hb, err := json.Marshal(h)
		if err != nil {
			return err
		}
		nv := binary.BigEndian.AppendUint32(nil, uint32(len(hb)))
		old = append(old, entry{bytes.Clone(k), append(nv, hb...)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("upgrade quarantine: %w", err)
	}
	for _, e := range old {
		if err := qb.Put(e.k, e.v); err != nil {
			return fmt.Errorf("upgrade quarantine: %w", err)
		}
		h, _, _ := decodeHeader(e.k, e.v)
		if err := indexQuarantineDay(tx, []byte(h.Day), e.k); err != nil {
			return fmt.Errorf("upgrade quarantine: %w", err)
		}
	}
	return m.Put(keyQuarantineV2, []byte{1})
}

// AddQuarantine implements store.Quarantines.
func (s *Store) AddQuarantine(ctx context.Context, q store.Quarantine) (uint64, error) {
	if len(q.Device) > 255 {
		return 0, fmt.Errorf("add quarantine entry (%s): device id of %d bytes", q.Reason, len(q.Device))
	}
	var id uint64
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var err error
		if id, err = addQuarantine(tx, q); err != nil {
			return err
		}
		st, err := getState(tx, q.Device)
		if errors.Is(err, store.ErrNotFound) {
			return nil // kept, but no enrolled device to count it for
		} else if err != nil {
			return err
		}
		st.Quarantined++
		return tx.Bucket(bucketStates).Put([]byte(q.Device), encodeState(st))
	})
	if err != nil {
		return 0, fmt.Errorf("add quarantine entry (%s, %s): %w", q.Reason, q.Device, err)
	}
	return id, nil
}

// Quarantined implements store.Quarantines.
func (s *Store) Quarantined(ctx context.Context, device string) ([]store.Quarantine, error) {
	var out []store.Quarantine
	err := s.view(ctx, func(tx *bolt.Tx) error {
		qb := tx.Bucket(bucketQuarantine)
		if device == "" {
			return qb.ForEach(func(k, v []byte) error {
				q, err := decodeQuarantine(k, v)
				out = append(out, q)
				return err
			})
		}
		return eachDeviceEntry(tx, device, func(k, v []byte) error {
			q, err := decodeQuarantine(k, v)
			out = append(out, q)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("quarantine of %q: %w", device, err)
	}
	return out, nil
}

// eachDeviceEntry calls fn with the id and value of each of a device's
// entries, in id order.
func eachDeviceEntry(tx *bolt.Tx, device string, fn func(k, v []byte) error) error {
	if len(device) > 255 {
		return nil
	}
	qb := tx.Bucket(bucketQuarantine)
	prefix := deviceKey(device, 8)
	c := tx.Bucket(bucketQuarByDev).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id := k[len(prefix):]
		if err := fn(id, qb.Get(id)); err != nil {
			return err
		}
	}
	return nil
}

// QuarantineUsage implements store.Quarantines.
func (s *Store) QuarantineUsage(ctx context.Context, device string) (int, int64, error) {
	var n int
	var size int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return eachDeviceEntry(tx, device, func(k, v []byte) error {
			_, payload, err := decodeHeader(k, v)
			n, size = n+1, size+int64(len(payload))
			return err
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("quarantine usage of %q: %w", device, err)
	}
	return n, size, nil
}

// DropQuarantine implements store.Quarantines: one transaction deletes the
// day's entries, their index keys and the day's index bucket.
func (s *Store) DropQuarantine(ctx context.Context, day time.Time) (int, error) {
	d := dayKey(day)
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		days := tx.Bucket(bucketQuarDays)
		if days == nil || days.Bucket(d) == nil {
			return nil
		}
		var ids [][]byte
		days.Bucket(d).ForEach(func(k, _ []byte) error {
			ids = append(ids, bytes.Clone(k))
			return nil
		})
		qb, byDev := tx.Bucket(bucketQuarantine), tx.Bucket(bucketQuarByDev)
		for _, id := range ids {
			v := qb.Get(id)
			if v == nil {
				continue
			}
			h, _, err := decodeHeader(id, v)
			if err != nil {
				return err
			}
			if err := byDev.Delete(append(deviceKey(h.Device, 8), id...)); err != nil {
				return err
			}
			if err := qb.Delete(id); err != nil {
				return err
			}
			n++
		}
		return days.DeleteBucket(d)
	})
	if err != nil {
		return 0, fmt.Errorf("drop the quarantine of day %s: %w", d, err)
	}
	return n, nil
}
