// Package boltstore is the embedded bbolt backend of the central store: one
// file, no server. It implements store.Store and passes storetest.Run.
//
// # File layout
//
//	meta         "format" → "anshim-central-v1"
//	venues       venue id → JSON store.Venue
//	tokens       SHA-256 of the token (32 bytes) → JSON store.Token
//	devices      device id → JSON store.Device
//	states       device id → last seq u64 ‖ last hash 32 ‖ records u64 ‖ quarantined u64 ‖ breaks u64
//	boots        u8 len ‖ device ‖ boot id (16) → boot start, Unix ns i64
//	checkins     u8 len ‖ device ‖ seq u64 → check-in (see encodeCheckIn)
//	quarantine   id u64 (bucket sequence) → u32 header length ‖ JSON header ‖ payload
//	quarantine-by-device   u8 len ‖ device ‖ id u64 → empty
//	quarantine-days        "YYYYMMDD" → { id u64 → empty } (quarantine.go)
//
// Integers are big-endian, so a device's check-ins sort by sequence.
// Every method is one bbolt transaction (two fsyncs per write).
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

const format = "anshim-central-v1"

var (
	bucketMeta       = []byte("meta")
	bucketVenues     = []byte("venues")
	bucketTokens     = []byte("tokens")
	bucketDevices    = []byte("devices")
	bucketStates     = []byte("states")
	bucketBoots      = []byte("boots")
	bucketCheckIns   = []byte("checkins")
	bucketQuarantine = []byte("quarantine")
	bucketQuarByDev  = []byte("quarantine-by-device")

	allBuckets = [][]byte{bucketMeta, bucketVenues, bucketTokens, bucketDevices, bucketStates,
		bucketBoots, bucketCheckIns, bucketQuarantine, bucketQuarByDev}

	keyFormat = []byte("format")
)

// Options configure Open. A nil *Options means the defaults.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process
	// (bbolt waits forever without one). Default 5 s.
	Timeout time.Duration
	// NoSync skips fsync on commit. Only for tests and benchmarks that
	// measure something else: a crash may lose or corrupt data.
	NoSync bool
}

func (o *Options) timeoutOrDefault() time.Duration {
	if o == nil || o.Timeout <= 0 {
		return 5 * time.Second
	}
	return o.Timeout
}

// Store is the bbolt implementation of store.Store.
type Store struct {
	db *bolt.DB
	// ingests commits Ingest calls: a lone one at once, several arriving
	// during a commit together in the next.
	ingests *groupCommit
}

var _ store.Store = (*Store)(nil)

// initialMmap is the size bbolt maps the file with at first, so that a
// growing store is not remapped (which blocks every reader) until it
// reaches it: 1 GiB on 64-bit, nothing on 32-bit (2 GB of address space
// in all). The freelist is a map (fast with many free pages after a day
// is dropped) and is written at every commit: without it in the file,
// bbolt rebuilds it at open by reading every page (20 s for 1.3 GB here).
const initialMmap = (1 << 30) * (strconv.IntSize / 64)

// Open opens the store file at path, creating it (mode 0600) with its
// buckets if it does not exist.
func Open(path string, opts *Options) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.timeoutOrDefault(),
		FreelistType: bolt.FreelistMapType, InitialMmapSize: initialMmap})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: locked by another process: %w", path, err)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.NoSync = opts != nil && opts.NoSync
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		m := tx.Bucket(bucketMeta)
		switch f := m.Get(keyFormat); {
		case f == nil:
			return m.Put(keyFormat, []byte(format))
		case string(f) != format:
			return fmt.Errorf("file format %q, want %q", f, format)
		}
		return upgradeQuarantine(tx) // quarantine.go
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db, ingests: &groupCommit{db: db}}, nil
}

// Close closes the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Check runs bbolt's consistency check of the whole file.
func (s *Store) Check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("check store: %w", err)
		}
		return nil
	})
}

// view and update run fn in a transaction after checking ctx.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

// AddToken implements store.Store.
func (s *Store) AddToken(ctx context.Context, t store.Token) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return putNew(tx.Bucket(bucketTokens), t.Hash[:], t)
	})
	if err != nil {
		return fmt.Errorf("add token for venue %s: %w", t.Venue, err)
	}
	return nil
}

// UseToken implements store.Store.
func (s *Store) UseToken(ctx context.Context, hash [32]byte, now time.Time) (store.Token, error) {
	var t store.Token
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if err := getJSON(b, hash[:], &t); err != nil {
			return err
		}
		if t.Used || !now.Before(t.Expires) {
			return store.ErrTokenUsed
		}
		t.Used = true
		return putJSON(b, hash[:], t)
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("use token: %w", err)
	}
	t.Hash = hash
	return t, nil
}

// AddDevice implements store.Store. The device's chain state starts at
// the genesis hash.
func (s *Store) AddDevice(ctx context.Context, d store.Device) error {
	if d.ID == "" || len(d.ID) > 255 {
		return fmt.Errorf("add device: id of %d bytes", len(d.ID))
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if err := putNew(tx.Bucket(bucketDevices), []byte(d.ID), d); err != nil {
			return err
		}
		st := store.DeviceState{Device: d.ID, LastHash: checkin.Genesis(d.ID)}
		return tx.Bucket(bucketStates).Put([]byte(d.ID), encodeState(st))
	})
	if err != nil {
		return fmt.Errorf("add device %s: %w", d.ID, err)
	}
	return nil
}

// Device implements store.Store.
func (s *Store) Device(ctx context.Context, id string) (store.Device, error) {
	var d store.Device
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketDevices), []byte(id), &d)
	})
	if err != nil {
		return store.Device{}, fmt.Errorf("device %s: %w", id, err)
	}
	return d, nil
}

// Devices implements store.Store: all devices in id order.
func (s *Store) Devices(ctx context.Context) ([]store.Device, error) {
	var out []store.Device
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDevices).ForEach(func(k, v []byte) error {
			var x store.Device
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("device %s: %w", k, err)
			}
			out = append(out, x)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

// State implements store.Store.
func (s *Store) State(ctx context.Context, device string) (store.DeviceState, error) {
	var st store.DeviceState
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		st, err = getState(tx, device)
		return err
	})
	if err != nil {
		return store.DeviceState{}, fmt.Errorf("state of device %s: %w", device, err)
	}
	return st, nil
}

// BootStart implements store.Store.
func (s *Store) BootStart(ctx context.Context, device string, boot [16]byte) (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketBoots).Get(bootKey(device, boot)); len(v) == 8 {
			t, ok = decodeTime(v), true
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("boot start of device %s: %w", device, err)
	}
	return t, ok, nil
}

// Ingest implements store.Store, in one transaction.
func (s *Store) Ingest(ctx context.Context, b store.Batch) (int, error) {
	for i, r := range b.Records {
		if r.Device != b.Device || r.Seq == 0 || i > 0 && r.Seq <= b.Records[i-1].Seq {
			return 0, fmt.Errorf("ingest %s: record %d is %s/%d: want ascending records of the batch's device", b.Device, i, r.Device, r.Seq)
		}
	}
	stored := 0
	// Ingests arriving together (several devices' batches are handled at
	// once) share one commit and its fsyncs; one with no other in
	// progress commits at once (commit.go). The function may run twice
	// (alone, after a shared commit failed): it starts over.
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	err := s.ingests.do(func(tx *bolt.Tx) error {
		stored = 0
		var firstStored, lastStored uint64
		st, err := getState(tx, b.Device)
		if err != nil {
			return err
		}
		cb := tx.Bucket(bucketCheckIns)
		cb.FillPercent = appendFill
		var dropped []uint64   // records of dropped days: the batch is refused
		x := newDayIndexer(tx) // the day's indexes: trace.go, retention.go
		for _, r := range b.Records {
			k := checkInKey(r.Device, r.Seq)
			if cb.Get(k) != nil {
				continue // already stored
			}
			v, err := encodeCheckIn(r)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err)
			}
			ok, err := x.add(r, k, false)
			if err != nil {
				return err
			}
			if !ok {
				dropped = append(dropped, r.Seq) // past retention: retention.go
				continue
			}
			if err := cb.Put(k, v); err != nil {
				return err
			}
			if stored == 0 {
				firstStored = r.Seq
			}
			lastStored = r.Seq
			stored++
		}
		if len(dropped) > 0 {
			return &store.DayDroppedError{Device: b.Device, Seqs: dropped}
		}
		if b.Leaf != nil && stored > 0 { // the batch's ledger leaf: ledger.go
			if err := appendBatchLeaf(tx, b.Device, b.Leaf, firstStored, lastStored); err != nil {
				return err
			}
		}
		if b.LastSeq > st.LastSeq {
			st.LastSeq, st.LastHash = b.LastSeq, b.LastHash
		}
		st.Records += uint64(stored)
		if b.Break != nil && stored > 0 {
			q := *b.Break
			q.Device = b.Device
			if _, err := addQuarantine(tx, q); err != nil {
				return err
			}
			st.Breaks++
			st.Quarantined++
		}
		bb := tx.Bucket(bucketBoots)
		for boot, start := range b.Boots {
			k := bootKey(b.Device, boot)
			if v := bb.Get(k); len(v) == 8 && !start.Before(decodeTime(v)) {
				continue
			}
			if err := bb.Put(k, encodeTime(start)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketStates).Put([]byte(b.Device), encodeState(st))
	})
	if err != nil {
		return 0, fmt.Errorf("ingest %s: %w", b.Device, err)
	}
	return stored, nil
}

// checkInChunk is how many check-ins CheckIns reads per transaction.
const checkInChunk = 256

// CheckIns implements store.Store. It reads in chunks, each in its own
// read transaction, and calls fn outside them.
func (s *Store) CheckIns(ctx context.Context, device string, from uint64, fn func(store.CheckIn) bool) error {
	if len(device) > 255 {
		return nil
	}
	prefix := deviceKey(device, 8)
	buf := make([]store.CheckIn, 0, checkInChunk)
	for {
		buf = buf[:0]
		err := s.view(ctx, func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketCheckIns).Cursor()
			for k, v := c.Seek(checkInKey(device, from)); k != nil && bytes.HasPrefix(k, prefix) && len(buf) < checkInChunk; k, v = c.Next() {
				r, err := decodeCheckIn(device, binary.BigEndian.Uint64(k[len(prefix):]), v)
				if err != nil {
					return err
				}
				buf = append(buf, r)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("check-ins of %s from %d: %w", device, from, err)
		}
		for _, r := range buf {
			if !fn(r) {
				return nil
			}
		}
		if len(buf) < checkInChunk || buf[len(buf)-1].Seq == math.MaxUint64 {
			return nil
		}
		from = buf[len(buf)-1].Seq + 1
	}
}

// putNew stores v as JSON under k, or fails with store.ErrExists.
func putNew(b *bolt.Bucket, k []byte, v any) error {
	if b.Get(k) != nil {
		return store.ErrExists
	}
	return putJSON(b, k, v)
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func getJSON(b *bolt.Bucket, k []byte, v any) error {
	data := b.Get(k)
	if data == nil {
		return store.ErrNotFound
	}
	return json.Unmarshal(data, v)
}

// deviceKey returns u8 len ‖ device, with room for extra more bytes.
func deviceKey(device string, extra int) []byte {
	k := make([]byte, 0, 1+len(device)+extra)
	k = append(k, byte(len(device)))
	return append(k, device...)
}

func checkInKey(device string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(deviceKey(device, 8), seq)
}

func bootKey(device string, boot [16]byte) []byte {
	return append(deviceKey(device, 16), boot[:]...)
}

func getState(tx *bolt.Tx, device string) (store.DeviceState, error) {
	v := tx.Bucket(bucketStates).Get([]byte(device))
	if v == nil {
		return store.DeviceState{}, store.ErrNotFound
	}
	if len(v) != 8+32+8+8+8 {
		return store.DeviceState{}, fmt.Errorf("state of %s: %d bytes", device, len(v))
	}
	st := store.DeviceState{Device: device, LastSeq: binary.BigEndian.Uint64(v)}
	copy(st.LastHash[:], v[8:40])
	st.Records = binary.BigEndian.Uint64(v[40:])
	st.Quarantined = binary.BigEndian.Uint64(v[48:])
	st.Breaks = binary.BigEndian.Uint64(v[56:])
	return st, nil
}

func encodeState(st store.DeviceState) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 64), st.LastSeq)
	v = append(v, st.LastHash[:]...)
	v = binary.BigEndian.AppendUint64(v, st.Records)
	v = binary.BigEndian.AppendUint64(v, st.Quarantined)
	return binary.BigEndian.AppendUint64(v, st.Breaks)
}

// Times are stored as Unix nanoseconds; the zero time as MinInt64 (its
// UnixNano is out of range).
func encodeTime(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, timeBits(t)) }

const zeroTime = 1 << 63 // math.MinInt64 as uint64

func timeBits(t time.Time) uint64 {
	if t.IsZero() {
		return zeroTime
	}
	return uint64(t.UnixNano())
}

func decodeTime(v []byte) time.Time { return timeFromBits(binary.BigEndian.Uint64(v)) }

func timeFromBits(n uint64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}

// checkInVersion heads an encoded check-in:
//
//	version u8 = 1
//	venue   u8 len + bytes
//	kind u8, quality u8, flags u32
//	raw wall, time, received: i64 Unix ns each
//	boot 16, mono i64
//	hash 32
//	tag 16
//	sealed  u16 len + bytes
const checkInVersion = 2

func encodeCheckIn(r store.CheckIn) ([]byte, error) {
	if len(r.Venue) > 255 || len(r.Sealed) > math.MaxUint16 {
		return nil, fmt.Errorf("venue of %d bytes or sealed part of %d bytes", len(r.Venue), len(r.Sealed))
	}
	v := make([]byte, 0, 2+len(r.Venue)+6+24+24+32+16+2+len(r.Sealed))
	v = append(v, checkInVersion, byte(len(r.Venue)))
	v = append(v, r.Venue...)
	v = append(v, byte(r.Kind), byte(r.Quality))
	v = binary.BigEndian.AppendUint32(v, r.Flags)
	v = binary.BigEndian.AppendUint64(v, timeBits(r.RawWall))
	v = binary.BigEndian.AppendUint64(v, timeBits(r.Time))
	v = binary.BigEndian.AppendUint64(v, timeBits(r.Received))
	v = append(v, r.Boot[:]...)
	v = binary.BigEndian.AppendUint64(v, uint64(r.Mono))
	v = append(v, r.Hash[:]...)
	v = append(v, r.Tag[:]...)
	v = binary.BigEndian.AppendUint16(v, uint16(len(r.Sealed)))
	return append(v, r.Sealed...), nil
}

func decodeCheckIn(device string, seq uint64, v []byte) (store.CheckIn, error) {
	bad := func() (store.CheckIn, error) {
		return store.CheckIn{}, fmt.Errorf("check-in %s/%d: corrupt value of %d bytes", device, seq, len(v))
	}
	if len(v) < 2 || v[0] != checkInVersion {
		return bad()
	}
	n := int(v[1])
	const fixed = 2 + 4 + 24 + 16 + 8 + 32 + 16 + 2
	if len(v) < 2+n+fixed {
		return bad()
	}
	r := store.CheckIn{Device: device, Seq: seq, Venue: string(v[2 : 2+n])}
	p := v[2+n:]
	r.Kind, r.Quality = checkin.Kind(p[0]), checkin.TimeQuality(p[1])
	r.Flags = binary.BigEndian.Uint32(p[2:])
	r.RawWall = timeFromBits(binary.BigEndian.Uint64(p[6:]))
	r.Time = timeFromBits(binary.BigEndian.Uint64(p[14:]))
	r.Received = timeFromBits(binary.BigEndian.Uint64(p[22:]))
	copy(r.Boot[:], p[30:46])
	r.Mono = time.Duration(binary.BigEndian.Uint64(p[46:]))
	copy(r.Hash[:], p[54:86])
	copy(r.Tag[:], p[86:102])
	m := int(binary.BigEndian.Uint16(p[102:]))
	if len(p) != fixed+m {
		return bad()
	}
	r.Sealed = bytes.Clone(p[fixed:])
	return r, nil
}
