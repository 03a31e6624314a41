package storebench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/ledger"
)

// Scale.
const (
	envFull = "ANSHIM_BENCH_FULL" // "1": the full-scale retention run
	envCold = "ANSHIM_BENCH_COLD" // "1": drop days whose files are not in the page cache
	envPG   = "ANSHIM_TEST_PG"    // the PostgreSQL server (see pgtest)

	retentionN     = 100_000   // check-ins in the dropped day, by default
	retentionNFull = 1_300_000 // with ANSHIM_BENCH_FULL=1: a province's day

	bulkDevices  = 1000 // devices sending batches in the ingest benchmarks
	bulkBatch    = 200  // records per batch, bulk ingest
	latencyBatch = 20   // records per batch, single-batch latency
	fillBatch    = 4000 // records per batch when filling a day
)

// dayN is how many check-ins the retention benchmark puts in the day it
// drops.
func dayN() int {
	if os.Getenv(envFull) == "1" {
		return retentionNFull
	}
	return retentionN
}

// cold reports whether BenchmarkRetention evicts the files of the day it
// drops from the page cache first, as for a day 28 days old.
func cold() bool { return os.Getenv(envCold) == "1" }

// evict drops the file at path (and its PostgreSQL segments path.1, path.2,
// …) from the page cache: posix_fadvise(DONTNEED) after fsync. Pages that
// a process has mapped stay.
func evict(path string) error {
	for i := 0; ; i++ {
		p := path
		if i > 0 {
			p = fmt.Sprintf("%s.%d", path, i)
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) && i > 0 {
			return nil
		} else if err != nil {
			return err
		}
		err = f.Sync()
		if err == nil {
			err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("evict %s: %w", p, err)
		}
	}
}

// benchDay is the KST day (its start) that the benchmarks' check-ins fall
// on; the retention benchmark also fills the day after.
var benchDay = time.Date(2026, 11, 26, 0, 0, 0, 0, daykeys.KST)

// progressf writes a progress line to standard error at once (b.Logf
// shows only when the benchmark is over).
func progressf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "storebench: "+format+"\n", args...)
}

// --- Check-ins ---

// sealedLen returns the size of a check-in's sealed personal part as the
// central stores it: daykeys.Seal of a checkin.PersonalLen plaintext (24-byte
// nonce + 22 + 16-byte tag = 62 bytes), measured on the real thing once.
var sealedLen = sync.OnceValues(func() (int, error) {
	dir, err := os.MkdirTemp("", "storebench-daykeys-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	day := daykeys.DayOf(benchDay)
	k, err := daykeys.Open(filepath.Join(dir, "daykeys"), make([]byte, 32), day)
	if err != nil {
		return 0, err
	}
	sealed, err := k.Seal(day, make([]byte, checkin.PersonalLen), daykeys.AD("k-0000000000000000", 1))
	return len(sealed), err
})

// fleet is a set of enrolled devices and the check-ins they send: each
// device has its own boot and venue and numbers its records 1, 2, …
// Random parts (sealed personal part, tag, hash) are random bytes of the
// real sizes. A fleet is not safe for concurrent use.
type fleet struct {
	rng    *rand.ChaCha8
	jitter *rand.Rand
	sealed int
	devs   []fleetDevice
}

type fleetDevice struct {
	id, venue string
	boot      [16]byte
	bootStart time.Time
	offset    time.Duration // where in the day its records start
	next      uint64        // its next sequence number
}

// recordStep spreads a device's records over the KST day: 1,500 records a
// day, wrapping around midnight beyond that (the store does not require a
// device's times to ascend, only its sequence numbers).
const recordStep = 24 * time.Hour / 1500

// newFleet makes n devices: ids as wire.DeviceID makes them ("k-" and
// 16 hex digits), one venue each.
func newFleet(tb testing.TB, n int, seed uint64) *fleet {
	tb.Helper()
	sl, err := sealedLen()
	if err != nil {
		tb.Fatalf("measure a day-sealed part: %v", err)
	}
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], seed)
	f := &fleet{rng: rand.NewChaCha8(s), sealed: sl, devs: make([]fleetDevice, n)}
	f.jitter = rand.New(f.rng)
	for i := range f.devs {
		d := &f.devs[i]
		var id [8]byte
		f.rng.Read(id[:])
		d.id = fmt.Sprintf("k-%x", id)
		d.venue = fmt.Sprintf("venue-%05d", i)
		f.rng.Read(d.boot[:])
		d.bootStart = benchDay.Add(-time.Duration(f.jitter.Int64N(int64(72 * time.Hour))))
		d.offset = time.Duration(f.jitter.Int64N(int64(24 * time.Hour)))
		d.next = 1
	}
	return f
}

// batch returns the next n records of device d, their corrected times in
// the KST day that starts at day, as sync/ingest hands them to the store:
// the device's state after them and the boot start learned.
func (f *fleet) batch(d, n int, day time.Time) store.Batch {
	dev := &f.devs[d]
	recs := make([]store.CheckIn, n)
	per := f.sealed + 16 + 32
	random := make([]byte, n*per)
	f.rng.Read(random)
	const span = 24*time.Hour - time.Second
	for i := range recs {
		p := random[i*per : (i+1)*per : (i+1)*per]
		r := &recs[i]
		t := day.Add((dev.offset+time.Duration(dev.next)*recordStep)%span + time.Duration(f.jitter.Int64N(int64(time.Second))))
		*r = store.CheckIn{
			Device:   dev.id,
			Seq:      dev.next,
			Venue:    dev.venue,
			Kind:     checkin.Entry + checkin.Kind(f.jitter.IntN(2)),
			RawWall:  t.Add(-time.Duration(f.jitter.Int64N(int64(50 * time.Millisecond)))),
			Quality:  checkin.NTPSynced,
			Boot:     dev.boot,
			Mono:     t.Sub(dev.bootStart),
			Time:     t.UTC(),
			Sealed:   p[:f.sealed:f.sealed],
			Received: t.Add(2 * time.Minute).UTC(),
		}
		copy(r.Tag[:], p[f.sealed:])
		copy(r.Hash[:], p[f.sealed+16:])
		dev.next++
	}
	return store.Batch{
		Device:   dev.id,
		Records:  recs,
		LastSeq:  recs[n-1].Seq,
		LastHash: recs[n-1].Hash,
		Boots:    map[[16]byte]time.Time{dev.boot: dev.bootStart},
	}
}

// withLeaf gives bt its ledger leaf as sync/ingest makes it
// (ledger.Batch: device, first and last sequence numbers, head hash, and
// the SHA-256 of the message, here of random bytes), which Ingest appends
// to the ledger in its transaction.
func (f *fleet) withLeaf(tb testing.TB, bt store.Batch) store.Batch {
	var msg [32]byte
	f.rng.Read(msg[:])
	leaf := ledger.Batch{Device: bt.Device, First: bt.Records[0].Seq, Last: bt.LastSeq, Head: bt.LastHash, Sealed: sha256.Sum256(msg[:])}
	var err error
	if bt.Leaf, err = leaf.MarshalText(); err != nil {
		tb.Fatal(err)
	}
	return bt
}

// enroll adds the fleet's devices to s, from 4 goroutines.
func (f *fleet) enroll(tb testing.TB, s store.Store) {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(f.devs); i += 4 {
				d := &f.devs[i]
				key := make([]byte, 32)
				binary.BigEndian.PutUint64(key, uint64(i))
				if err := s.AddDevice(ctx, store.Device{ID: d.id, Venue: d.venue, PublicKey: key, NKey: "U" + d.id, Enrolled: benchDay.Add(-30 * 24 * time.Hour)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
	progressf("enrolled %d devices in %v", len(f.devs), time.Since(start).Round(time.Millisecond))
}

// --- Raw bbolt: the same bytes as boltstore, no store logic ---

// boltKey is boltstore's check-in key: u8 len ‖ device ‖ seq u64.
func boltKey(device string, seq uint64) []byte {
	k := make([]byte, 0, 1+len(device)+8)
	k = append(k, byte(len(device)))
	k = append(k, device...)
	return binary.BigEndian.AppendUint64(k, seq)
}

// boltValue is boltstore's encoding of a check-in (version 2): the same
// bytes as encodeCheckIn.
func boltValue(r store.CheckIn) []byte {
	v := make([]byte, 0, 2+len(r.Venue)+6+24+16+8+32+16+2+len(r.Sealed))
	v = append(v, 2, byte(len(r.Venue)))
	v = append(v, r.Venue...)
	v = append(v, byte(r.Kind), byte(r.Quality))
	v = binary.BigEndian.AppendUint32(v, r.Flags)
	for _, t := range []time.Time{r.RawWall, r.Time, r.Received} {
		v = binary.BigEndian.AppendUint64(v, uint64(t.UnixNano()))
	}
	v = append(v, r.Boot[:]...)
	v = binary.BigEndian.AppendUint64(v, uint64(r.Mono))
	v = append(v, r.Hash[:]...)
	v = append(v, r.Tag[:]...)
	v = binary.BigEndian.AppendUint16(v, uint16(len(r.Sealed)))
	return append(v, r.Sealed...)
}

// rawBolt is the bbolt baseline: one bucket, one Update per commit (fsync
// on unless opened noSync), the records' keys and values put as they are.
type rawBolt struct {
	db     *bolt.DB
	bucket []byte
}

func openRawBolt(tb testing.TB, path, bucket string, noSync bool) *rawBolt {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	db.NoSync = noSync
	tb.Cleanup(func() { db.Close() })
	r := &rawBolt{db: db, bucket: []byte(bucket)}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(r.bucket); return err }); err != nil {
		tb.Fatal(err)
	}
	return r
}

func (r *rawBolt) commit(_ context.Context, recs []store.CheckIn) error {
	return r.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(r.bucket)
		for i := range recs {
			if err := b.Put(boltKey(recs[i].Device, recs[i].Seq), boltValue(recs[i])); err != nil {
				return err
			}
		}
		return nil
	})
}

// --- Raw PostgreSQL: COPY of the same rows, no store logic ---

// pgColumns are pgstore's check-in columns, in the order of pgRow.
var pgColumns = []string{"device", "seq", "day", "venue", "kind", "quality", "flags",
	"raw_wall", "raw_wall_ns", "mono", "boot", "time", "time_ns", "received", "hash", "tag", "sealed"}

// kstDate is pgstore's day of a check-in: the KST date, as midnight UTC.
func kstDate(t time.Time) time.Time {
	y, m, d := t.In(daykeys.KST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// pgRow is r's row as pgstore copies it (checkInRow): the same values, the
// same types.
func pgRow(r *store.CheckIn) []any {
	us := func(t time.Time) (time.Time, int16) {
		u := t.Truncate(time.Microsecond)
		return u, int16(t.Sub(u))
	}
	raw, rawNS := us(r.RawWall)
	corrected, correctedNS := us(r.Time)
	return []any{
		[]byte(r.Device), int64(r.Seq), kstDate(r.Time), []byte(r.Venue), int16(r.Kind), int16(r.Quality), int64(r.Flags),
		raw, rawNS, int64(r.Mono), r.Boot[:], corrected, correctedNS, r.Received, r.Hash[:], r.Tag[:], r.Sealed,
	}
}

// rawPG is the PostgreSQL baseline: COPY … FROM STDIN BINARY of the rows
// into a plain table (not partitioned) with the columns, defaults and
// indexes of pgstore's checkins (CREATE TABLE … LIKE checkins INCLUDING
// INDEXES: the primary key and whatever indexes later migrations add, the
// tracing indexes today) — one statement, its own transaction.
type rawPG struct {
	pool  *pgxpool.Pool
	table string
}

// openRawPG makes table like checkins in the database at dsn, where a
// pgstore.Store has made its schema, and connects to it with at most
// conns connections, synchronous_commit off if noSync.
func openRawPG(tb testing.TB, dsn, table string, conns int32, noSync bool) *rawPG {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = conns
	if noSync {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	_, err = pool.Exec(context.Background(), fmt.Sprintf(
		"CREATE TABLE IF NOT EXISTS %s (LIKE checkins INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)",
		pgx.Identifier{table}.Sanitize()))
	if err != nil {
		tb.Fatalf("make the baseline table: %v", err)
	}
	return &rawPG{pool: pool, table: table}
}

func (r *rawPG) commit(ctx context.Context, recs []store.CheckIn) error {
	_, err := r.pool.CopyFrom(ctx, pgx.Identifier{r.table}, pgColumns, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
		return pgRow(&recs[i]), nil
	}))
	return err
}

// --- Backends ---

// sink commits records somewhere: a store's Ingest, or a raw baseline.
type sink interface {
	commit(ctx context.Context, recs []store.CheckIn) error
}

// pgDSN returns the address of a fresh database on the test server, or
// skips the benchmark loudly: a missing PostgreSQL half must not pass
// for a measured one.
func pgDSN(b testing.TB) string {
	b.Helper()
	if os.Getenv(envPG) == "" && os.Getenv("CI") == "" {
		progressf("NOT RUN: %s: %s is not set, the PostgreSQL benchmark and its ratios did not run", b.Name(), envPG)
		b.Skipf("NOT RUN: %s is not set (set %s=postgres://user@host:5432/db?sslmode=disable, a server where databases may be created and dropped)", envPG, envPG)
	}
	return pgtest.NewDatabase(b) // fails under CI without the variable
}

// openBolt opens a boltstore at path, closed when the benchmark ends.
func openBolt(tb testing.TB, path string, noSync bool) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(path, &boltstore.Options{NoSync: noSync})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// openPG opens a pgstore on dsn, closed when the benchmark ends.
func openPG(tb testing.TB, dsn string, noSync bool) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.Open(context.Background(), dsn, &pgstore.Options{MaxConns: 4, NoSync: noSync})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// fsyncFile flushes a file that was written without fsync, so that the
// next timed commit does not pay for it.
func fsyncFile(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
}

// checkpoint asks PostgreSQL for a checkpoint, so that the dirty buffers
// of a fill are written before what is timed (needs a superuser or
// pg_checkpoint; without it the benchmark says so and goes on).
func checkpoint(tb testing.TB, dsn string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	start := time.Now()
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		progressf("CHECKPOINT: %v (timings may include the fill's writes)", err)
		return
	}
	progressf("checkpoint in %v", time.Since(start).Round(time.Millisecond))
}

// --- Measuring ---

// pct returns the p-th percentile of d (nearest rank).
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// mustIngest ingests b into s, all of its records new.
func mustIngest(ctx context.Context, s store.Store, b store.Batch) error {
	n, err := s.Ingest(ctx, b)
	if err == nil && n != len(b.Records) {
		err = fmt.Errorf("stored %d of %d records", n, len(b.Records))
	}
	if err != nil {
		return fmt.Errorf("ingest %s: %w", b.Device, err)
	}
	return nil
}

// errFirst keeps the first error of several goroutines.
type errFirst struct {
	mu  sync.Mutex
	err error
}

func (e *errFirst) set(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

func (e *errFirst) get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}
