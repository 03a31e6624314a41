package kiosk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/checkin"
)

// Buckets and meta keys of the outbox file.
var (
	bucketMeta     = []byte("meta")
	bucketRecords  = []byte("records")  // seq (u64 BE) → canonical record
	bucketDebounce = []byte("debounce") // debounce tag → stamp
	bucketHeads    = []byte("heads")    // seq (u64 BE) → signed checkin.Head after the commit ending at seq

	keyDevice    = []byte("device")
	keyVenue     = []byte("venue")
	keyNextSeq   = []byte("next_seq")  // u64 BE: next sequence to assign; never decreases
	keyHead      = []byte("head")      // checkin.Head of the last record written
	keyBase      = []byte("base")      // seq(8) || hash(32): chain state before the oldest kept record
	keyDestroyed = []byte("destroyed") // u64 BE: unsynced records destroyed after the retention period
	keyFormat    = []byte("format")
)

const outboxFormat = "anshim-outbox-v1"

// Errors of the outbox that callers branch on.
var (
	// ErrCorrupt means the outbox file cannot be read safely. The file has
	// been moved aside, never replaced; see CorruptError.
	ErrCorrupt = errors.New("outbox corrupt")
	// ErrDiskFull means a commit failed for lack of space: nothing was
	// recorded, and the outbox is unchanged.
	ErrDiskFull = errors.New("disk full")
	// ErrLocked means another process — another kiosk daemon, or `kiosk
	// outbox` — holds the outbox file: its lock was not released within
	// lockTimeout. Nothing is wrong with the file.
	ErrLocked = errors.New("outbox locked")
)

// lockTimeout is how long opening the outbox waits for another process's
// lock (bbolt waits forever without one): long enough for a previous
// daemon being restarted to close it.
const lockTimeout = 2 * time.Second

// CorruptError reports a corrupt outbox and where the file was moved.
type CorruptError struct {
	Path, MovedTo string
	Err           error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("outbox %s is corrupt (%v); kept aside as %s", e.Path, e.Err, e.MovedTo)
}

// Unwrap lets errors.Is match ErrCorrupt.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// OutboxMeta is what the outbox is created with.
type OutboxMeta struct {
	Device string
	Venue  string
}

// CreateOutbox creates a new outbox file at path. It refuses to touch an
// existing file. Creating the file at provisioning time, not at the first
// scan, keeps a power cut during bbolt's file creation from costing data.
func CreateOutbox(path string, meta OutboxMeta) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("create outbox: %s already exists", path)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return fmt.Errorf("create outbox: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketRecords, bucketDebounce, bucketHeads} {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		g := checkin.Genesis(meta.Device)
		for k, v := range map[string][]byte{
			string(keyFormat):    []byte(outboxFormat),
			string(keyDevice):    []byte(meta.Device),
			string(keyVenue):     []byte(meta.Venue),
			string(keyNextSeq):   u64(1),
			string(keyBase):      append(u64(0), g[:]...),
			string(keyDestroyed): u64(0),
		} {
			if err := m.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("create outbox: %w", err)
	}
	return nil
}

// Outbox is the kiosk's durable queue of check-ins in one bbolt file.
//
// Every accepted scan is one record committed (fsync) before Append returns;
// scans arriving together share one commit. Sequence numbers start at 1,
// increase by one, and are never reused, also across crashes: the next
// sequence is stored in the same transaction as the record. Records leave
// the file only when the central acknowledged them (Ack) or after the
// retention period (DestroyExpired).
type Outbox struct {
	path   string
	db     *bolt.DB
	device string
	venue  string
	key    ed25519.PrivateKey
	reqs   chan *appendReq
	done   chan struct{}
	now    func() time.Time
	// health, when set, is told when each commit begins and ends (the
	// watchdog stops its pings when one is stuck).
	health atomic.Pointer[Health]
}

// OpenOutbox opens the outbox at path and checks it. A file that bbolt
// cannot open or whose consistency check fails is moved aside (renamed,
// never deleted) and a *CorruptError is returned. key signs chain heads.
func OpenOutbox(path string, key ed25519.PrivateKey) (*Outbox, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	db, err := openChecked(path)
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open outbox: another kiosk process holds %s (not released within %s): %w: %w", path, lockTimeout, ErrLocked, err)
		}
		moved := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(path, moved); rerr != nil {
			moved = path + " (could not be moved: " + rerr.Error() + ")"
		}
		return nil, &CorruptError{Path: path, MovedTo: moved, Err: err}
	}
	o := &Outbox{path: path, db: db, key: key, reqs: make(chan *appendReq, 64), done: make(chan struct{}), now: time.Now}
	err = db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || string(m.Get(keyFormat)) != outboxFormat || tx.Bucket(bucketRecords) == nil || tx.Bucket(bucketDebounce) == nil || tx.Bucket(bucketHeads) == nil {
			return fmt.Errorf("%w: not an Anshim outbox", ErrCorrupt)
		}
		o.device = string(m.Get(keyDevice))
		o.venue = string(m.Get(keyVenue))
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open outbox %s: %w", path, err)
	}
	go o.writer()
	return o, nil
}

// openChecked opens the bbolt file and runs its consistency check, turning
// bbolt's panics on corrupt pages into errors.
func openChecked(path string) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				db.Close()
			}
			db, err = nil, fmt.Errorf("bbolt panic: %v", r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, err
	}
	err = db.View(func(tx *bolt.Tx) error {
		for cerr := range tx.Check() {
			return cerr
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	// Reopen: unmapping drops the pages the check touched from the
	// process's resident set (a Pi Zero has 512 MB for everything).
	if err := db.Close(); err != nil {
		return nil, err
	}
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
}

// Device returns the device id the outbox belongs to.
func (o *Outbox) Device() string { return o.device }

// Venue returns the venue id the outbox was provisioned for.
func (o *Outbox) Venue() string { return o.venue }

// Path returns the outbox file's path.
func (o *Outbox) Path() string { return o.path }

// Close stops the writer and closes the file.
func (o *Outbox) Close() error {
	close(o.reqs)
	<-o.done
	return o.db.Close()
}

// Entry is a check-in to append: everything but the sequence number.
type Entry struct {
	At     Stamp
	Kind   checkin.Kind
	Sealed []byte
	// Tag identifies the pass for debouncing (a keyed hash: it reveals
	// nothing without the device's debounce key).
	Tag [16]byte
	// Window is the debounce window: the same Tag and Kind within it is a
	// duplicate and makes no record. Zero disables debouncing.
	Window time.Duration
}

// Appended is the outcome of Append.
type Appended struct {
	Seq       uint64 // sequence of the new record; 0 for a duplicate
	Duplicate bool   // the pass was already recorded within the window
	PrevSeq   uint64 // for a duplicate: the record it duplicates
}

type appendReq struct {
	e    Entry
	out  Appended
	err  error
	done chan struct{}
}

// Append records e durably and returns its sequence number, or reports it
// as a duplicate of a recent record. When Append returns nil the record (or
// the debounce decision's record) is on disk. On error nothing was recorded.
func (o *Outbox) Append(ctx context.Context, e Entry) (Appended, error) {
	r := &appendReq{e: e, done: make(chan struct{})}
	select {
	case o.reqs <- r:
	case <-ctx.Done():
		return Appended{}, ctx.Err()
	}
	<-r.done // once queued, the commit decides; do not abandon it half way
	return r.out, r.err
}

// writer commits queued appends: all requests waiting when a commit starts
// share it (group commit), so a burst costs one pair of fsyncs.
func (o *Outbox) writer() {
	defer close(o.done)
	for r := range o.reqs {
		batch := []*appendReq{r}
	drain:
		for len(batch) < 256 {
			select {
			case r2, ok := <-o.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r2)
			default:
				break drain
			}
		}
		end := o.health.Load().Begin("outbox commit")
		err := o.commit(batch)
		end()
		for _, r := range batch {
			if err != nil {
				r.out, r.err = Appended{}, err
			}
			close(r.done)
		}
	}
}

func (o *Outbox) commit(batch []*appendReq) error {
	err := o.db.Update(func(tx *bolt.Tx) error {
		m, recs, deb := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords), tx.Bucket(bucketDebounce)
		// Keys only ever grow: pack pages full instead of bbolt's default
		// half-full splits (a smaller file, fewer pages per commit).
		recs.FillPercent = 0.95
		tx.Bucket(bucketHeads).FillPercent = 0.95
		next := binary.BigEndian.Uint64(m.Get(keyNextSeq))
		prev, err := o.headHash(m)
		if err != nil {
			return err
		}
		var buf []byte
		wrote := false
		for _, r := range batch {
			r.out = Appended{}
			dkey := append(r.e.Tag[:], byte(r.e.Kind))
			if r.e.Window > 0 {
				if v := deb.Get(dkey); v != nil {
					last, seq := decodeStamp(v)
					if d, ok := last.Since(r.e.At); ok && d >= 0 && d < r.e.Window {
						r.out = Appended{Duplicate: true, PrevSeq: seq}
						continue
					}
				}
			}
			rec := checkin.Record{
				Device: o.device, Seq: next, Venue: o.venue,
				Wall: r.e.At.Wall, Quality: r.e.At.Quality, Boot: r.e.At.Boot, Mono: r.e.At.Mono,
				Kind: r.e.Kind, Sealed: r.e.Sealed,
			}
			buf, err = rec.AppendBinary(buf[:0])
			if err != nil {
				return fmt.Errorf("encode record %d: %w", next, err)
			}
			if err := recs.Put(u64(next), bytes.Clone(buf)); err != nil {
				return err
			}
			if r.e.Window > 0 {
				if err := deb.Put(dkey, encodeStamp(r.e.At, next)); err != nil {
					return err
				}
			}
			prev = checkin.Next(prev, buf)
			r.out = Appended{Seq: next}
			next++
			wrote = true
		}
		if !wrote {
			return nil
		}
		head, _ := checkin.SignHead(o.key, o.device, next-1, prev).MarshalBinary()
		if err := m.Put(keyHead, head); err != nil {
			return err
		}
		// Every commit's signed head is kept until its records are acked:
		// a batch to the central ends at one of them, so the signature it
		// carries was made when the records were written, not when sent.
		if err := tx.Bucket(bucketHeads).Put(u64(next-1), head); err != nil {
			return err
		}
		return m.Put(keyNextSeq, u64(next))
	})
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG) {
			return fmt.Errorf("commit check-in: %w: %w", ErrDiskFull, err)
		}
		return fmt.Errorf("commit check-in: %w", err)
	}
	return nil
}

// headHash returns the hash of the chain's last record (the base when the
// outbox is empty of records ever written).
func (o *Outbox) headHash(m *bolt.Bucket) (checkin.Hash, error) {
	if v := m.Get(keyHead); v != nil {
		var h checkin.Head
		if err := h.UnmarshalBinary(v); err != nil {
			return checkin.Hash{}, fmt.Errorf("%w: head: %v", ErrCorrupt, err)
		}
		return h.Hash, nil
	}
	_, h := decodeBase(m.Get(keyBase))
	return h, nil
}

func encodeStamp(s Stamp, seq uint64) []byte {
	b := make([]byte, 0, 8+1+16+8+8)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Wall.UnixNano()))
	b = append(b, byte(s.Quality))
	b = append(b, s.Boot[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Mono))
	return binary.BigEndian.AppendUint64(b, seq)
}

func decodeStamp(b []byte) (Stamp, uint64) {
	if len(b) != 41 {
		return Stamp{}, 0
	}
	var s Stamp
	s.Wall = time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()
	s.Quality = checkin.TimeQuality(b[8])
	copy(s.Boot[:], b[9:25])
	s.Mono = time.Duration(binary.BigEndian.Uint64(b[25:]))
	return s, binary.BigEndian.Uint64(b[33:])
}

func decodeBase(b []byte) (uint64, checkin.Hash) {
	var h checkin.Hash
	if len(b) != 8+len(h) {
		return 0, h
	}
	copy(h[:], b[8:])
	return binary.BigEndian.Uint64(b), h
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
