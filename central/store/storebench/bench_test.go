package storebench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// --- Bulk ingest and single-batch latency ---

// ingestEnv is a store with 1,000 enrolled devices, and its raw baseline.
type ingestEnv struct {
	name   string
	store  store.Store
	raw    sink
	fleet  *fleet
	cursor int  // the device that sends the next batch
	leaf   bool // batches carry their ledger leaf, as from sync/ingest
}

// retainedDays is how many KST days a central keeps (28-day retention):
// the ingest benchmarks run against a store holding check-ins of the 27
// days before benchDay too, as in steady state (pgstore: 28 partitions,
// each looked up by Ingest).
const retainedDays = 28

// newIngestEnv enrolls the fleet, stores one check-in on each of the
// pastDays days before benchDay (a device of its own), and makes one
// untimed commit of a batch on each side (pgstore makes the day's
// partition on the first).
func newIngestEnv(b *testing.B, name string, s store.Store, raw sink, pastDays int) *ingestEnv {
	b.Helper()
	e := &ingestEnv{name: name, store: s, raw: raw, fleet: newFleet(b, bulkDevices, 1)}
	e.fleet.enroll(b, s)
	ctx := context.Background()
	if pastDays > 0 {
		h := newFleet(b, 1, 3)
		h.devs[0].id = "k-history"
		h.enroll(b, s)
		for i := pastDays; i >= 1; i-- {
			if err := mustIngest(ctx, s, h.batch(0, 1, benchDay.AddDate(0, 0, -i))); err != nil {
				b.Fatal(err)
			}
		}
	}
	bt := e.fleet.batch(0, bulkBatch, benchDay)
	e.cursor = 1
	if err := mustIngest(ctx, s, bt); err != nil {
		b.Fatal(err)
	}
	if err := raw.commit(ctx, bt.Records); err != nil {
		b.Fatal(err)
	}
	return e
}

// nextBatch returns the next device's next n records, with their ledger
// leaf if e.leaf.
func (e *ingestEnv) nextBatch(b *testing.B, n int) (store.Batch, int) {
	d := e.cursor % len(e.fleet.devs)
	e.cursor++
	bt := e.fleet.batch(d, n, benchDay)
	if e.leaf {
		bt = e.fleet.withLeaf(b, bt)
	}
	return bt, d
}

// records returns how many check-ins the env's store holds.
func (e *ingestEnv) records() int {
	n := 0
	for i := range e.fleet.devs {
		n += int(e.fleet.devs[i].next - 1)
	}
	return n
}

// runPhase runs each worker's batches through commit, the workers at
// once, and returns the wall time.
func runPhase(b *testing.B, work [][]store.Batch, commit func(context.Context, store.Batch) error) time.Duration {
	ctx := context.Background()
	var wg sync.WaitGroup
	var errs errFirst
	start := time.Now()
	for _, batches := range work {
		wg.Go(func() {
			for _, bt := range batches {
				if err := commit(ctx, bt); err != nil {
					errs.set(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	return elapsed
}

// bulk measures b.N batches of 200 new records, the devices taking turns,
// writers goroutines at once (device d's batches all go through writer
// d mod writers, in order). The raw baseline commits the same batches, in
// rounds of 5 batches per writer alternating with the store's, so that
// both see the same machine; only the store's rounds are timed by the
// benchmark framework. rate-ratio is the median over the rounds of the
// store's records/s over the baseline's (robust to load that comes and
// goes on a shared machine); records/s and raw-records/s are totals.
func (e *ingestEnv) bulk(b *testing.B, writers int) {
	work := make([][]store.Batch, writers)
	for range b.N {
		bt, d := e.nextBatch(b, bulkBatch)
		work[d%writers] = append(work[d%writers], bt)
	}
	const round = 5
	var tStore, tRaw time.Duration
	var ratios []float64 // per round: raw time over store time
	b.ResetTimer()
	for r := 0; ; r++ {
		chunk := make([][]store.Batch, writers)
		more := false
		for w := range work {
			lo := min(r*round, len(work[w]))
			chunk[w] = work[w][lo:min(lo+round, len(work[w]))]
			more = more || len(chunk[w]) > 0
		}
		if !more {
			break
		}
		b.StopTimer()
		r := runPhase(b, chunk, func(ctx context.Context, bt store.Batch) error { return e.raw.commit(ctx, bt.Records) })
		b.StartTimer()
		st := runPhase(b, chunk, func(ctx context.Context, bt store.Batch) error { return mustIngest(ctx, e.store, bt) })
		tRaw, tStore, ratios = tRaw+r, tStore+st, append(ratios, r.Seconds()/st.Seconds())
	}
	b.StopTimer()
	slices.Sort(ratios)
	n := float64(b.N * bulkBatch)
	b.ReportMetric(n/tStore.Seconds(), "records/s")
	b.ReportMetric(n/tRaw.Seconds(), "raw-records/s")
	b.ReportMetric(ratios[len(ratios)/2], "rate-ratio")
	b.Logf("%s writers=%d: %d batches in %d rounds: %.0f records/s, raw %.0f (ratio of the totals %.2f, per round from %.2f to %.2f); the store holds %d check-ins",
		e.name, writers, b.N, len(ratios), n/tStore.Seconds(), n/tRaw.Seconds(), tRaw.Seconds()/tStore.Seconds(), ratios[0], ratios[len(ratios)-1], e.records())
}

// latency measures b.N Ingests of one 20-record batch, the devices taking
// turns, each after the raw baseline's single commit of the same records.
func (e *ingestEnv) latency(b *testing.B) {
	batches := make([]store.Batch, b.N)
	for i := range batches {
		batches[i], _ = e.nextBatch(b, latencyBatch)
	}
	ctx := context.Background()
	st, raw := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for _, bt := range batches {
		t0 := time.Now()
		if err := e.raw.commit(ctx, bt.Records); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := mustIngest(ctx, e.store, bt); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		raw, st = append(raw, t1.Sub(t0)), append(st, t2.Sub(t1))
	}
	b.StopTimer()
	rawP50 := pct(raw, 50)
	b.ReportMetric(ms(pct(st, 50)), "p50-ms")
	b.ReportMetric(ms(pct(st, 99)), "p99-ms")
	b.ReportMetric(ms(rawP50), "raw-p50-ms")
	b.ReportMetric(ms(pct(raw, 99)), "raw-p99-ms")
	b.ReportMetric(ms(pct(st, 50))/ms(rawP50), "p50-ratio")
	b.ReportMetric(ms(pct(st, 99))/ms(rawP50), "p99/raw-p50")
}

// boltIngestEnv opens a boltstore (fsync on) and a raw bbolt file beside
// it.
func boltIngestEnv(b *testing.B, pastDays int) (*ingestEnv, string) {
	dir := b.TempDir()
	path := filepath.Join(dir, "central.db")
	s := openBolt(b, path, false)
	raw := openRawBolt(b, filepath.Join(dir, "raw.db"), "checkins", false)
	return newIngestEnv(b, "bolt", s, raw, pastDays), path
}

// pgIngestEnv opens a pgstore (synchronous commit on, 4 connections) on a
// fresh database and the baseline table raw_checkins in it.
func pgIngestEnv(b *testing.B, pastDays int) (*ingestEnv, string) {
	dsn := pgDSN(b)
	s := openPG(b, dsn, false)
	raw := openRawPG(b, dsn, "raw_checkins", 4, false)
	return newIngestEnv(b, "pg", s, raw, pastDays), dsn
}

// runBulk runs the bulk sub-benchmarks on e: ledger leaves on (as
// sync/ingest sends batches) with 1 and 4 writers, then off with 4.
func runBulk(b *testing.B, e *ingestEnv) {
	for _, c := range []struct {
		leaf    bool
		writers int
	}{{true, 1}, {true, 4}, {false, 4}} {
		name := fmt.Sprintf("ledger=on/writers=%d", c.writers)
		if !c.leaf {
			name = fmt.Sprintf("ledger=off/writers=%d", c.writers)
		}
		b.Run(name, func(b *testing.B) {
			e.leaf = c.leaf
			e.bulk(b, c.writers)
		})
	}
}

// BenchmarkIngest measures bulk ingest, check-ins/s through Ingest, on
// each backend: batches of 200 new records from 1,000 devices, records
// spread over a KST day, each with its ledger leaf as sync/ingest makes
// it, with 1 and 4 writers (and 4 without leaves), the store holding
// check-ins of the 27 days before too (see retainedDays); against the raw
// baseline (bbolt: put + commit of the same keys and values in one bucket;
// PostgreSQL: COPY of the same rows into a plain table with checkins'
// columns and indexes, no ledger) with as many writers. rate-ratio is the
// store's records/s over the baseline's (median over rounds, see bulk).
func BenchmarkIngest(b *testing.B) {
	b.Run("bolt", func(b *testing.B) {
		e, path := boltIngestEnv(b, retainedDays-1)
		runBulk(b, e)
		// Size of a store filled as in production (small batches from
		// many devices), to compare with BenchmarkRetention's.
		if s, ok := e.store.(interface{ Close() error }); ok {
			s.Close()
		}
		sz := measureBolt(b, path)
		n := float64(e.records())
		progressf("bolt after bulk ingest: %d check-ins, file %.1f B/check-in, used %.1f (checkins %.1f, days %.1f, trace %.1f)",
			e.records(), float64(sz.file)/n, float64(sz.used)/n, float64(sz.bucketBytes("checkins"))/n,
			float64(sz.bucketBytes("days"))/n, float64(sz.bucketBytes("trace"))/n)
	})
	b.Run("pg", func(b *testing.B) {
		e, dsn := pgIngestEnv(b, retainedDays-1)
		runBulk(b, e)
		sz := measurePG(b, dsn)
		n := float64(sz.rows)
		progressf("pg after bulk ingest: %d check-ins (%d in partitions), %.1f B/check-in (heap %.1f, indexes %.1f: %s)",
			e.records(), sz.rows, float64(sz.total)/n, float64(sz.heap)/n, float64(sz.index)/n, perCheckIn(sz.indexes, n))
	})
}

// BenchmarkIngestLatency measures one Ingest of a 20-record batch (what a
// kiosk sends after a short outage) on each backend, 1,000 devices taking
// turns, each Ingest right after the raw baseline's single commit of the
// same 20 records (as in BenchmarkIngest); with the 27 days before held
// (days=28, steady state) and without (days=1), since pgstore's Ingest
// looks each batch up in every partition; with the batch's ledger leaf (as
// sync/ingest sends it) and without. ns/op is the mean of both
// halves; p50-ratio is the store's p50 over the baseline's p50, and
// p99/raw-p50 the store's p99 over it.
func BenchmarkIngestLatency(b *testing.B) {
	for _, c := range []struct {
		days int
		leaf bool
	}{{retainedDays, true}, {retainedDays, false}, {1, true}} {
		ledger := map[bool]string{true: "on", false: "off"}[c.leaf]
		b.Run(fmt.Sprintf("bolt/days=%d/ledger=%s", c.days, ledger), func(b *testing.B) {
			e, _ := boltIngestEnv(b, c.days-1)
			e.leaf = c.leaf
			b.Run("records=20", e.latency)
		})
		b.Run(fmt.Sprintf("pg/days=%d/ledger=%s", c.days, ledger), func(b *testing.B) {
			e, _ := pgIngestEnv(b, c.days-1)
			e.leaf = c.leaf
			b.Run("records=20", e.latency)
		})
	}
}

// --- Retention and size ---

// fillDay ingests n new check-ins of day into s through its own Ingest:
// batches of up to 4,000 records, one device's records per batch (each
// device's share of n, in order), workers batches at once. also, if not
// nil, gets each batch after it is stored (for a baseline, untimed). It
// returns the time spent in Ingest (wall time less also's).
func fillDay(b *testing.B, name string, s store.Store, f *fleet, n int, day time.Time, workers int, also func(store.Batch) error) time.Duration {
	b.Helper()
	per := (n + len(f.devs) - 1) / len(f.devs)
	batches := make(chan store.Batch, 2*workers)
	go func() {
		defer close(batches)
		left := n
		for d := 0; left > 0; d++ {
			for mine := min(per, left); mine > 0; {
				k := min(mine, fillBatch)
				batches <- f.batch(d, k, day)
				mine, left = mine-k, left-k
			}
		}
	}()
	ctx := context.Background()
	var (
		mu        sync.Mutex
		done      int
		alsoTime  time.Duration
		lastPrint = time.Now()
		errs      errFirst
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for bt := range batches {
				if errs.get() != nil {
					continue // drain
				}
				if err := mustIngest(ctx, s, bt); err != nil {
					errs.set(err)
					continue
				}
				var spent time.Duration
				if also != nil {
					t := time.Now()
					if err := also(bt); err != nil {
						errs.set(err)
					}
					spent = time.Since(t)
				}
				mu.Lock()
				done += len(bt.Records)
				alsoTime += spent
				if time.Since(lastPrint) > 5*time.Second {
					lastPrint = time.Now()
					el := time.Since(start) - alsoTime
					progressf("%s: filling %s: %d/%d check-ins (%.0f%%), %.0f/s", name, day.Format(time.DateOnly), done, n,
						100*float64(done)/float64(n), float64(done)/el.Seconds())
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errs.get(); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start) - alsoTime
	progressf("%s: filled %s with %d check-ins in %v (%.0f/s)", name, day.Format(time.DateOnly), n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	return el
}

// sampleIngest times k Ingests of a 20-record batch of day (devices taking
// turns) and returns their p50.
func sampleIngest(b *testing.B, s store.Store, f *fleet, k int, day time.Time) time.Duration {
	b.Helper()
	ctx := context.Background()
	var d []time.Duration
	for i := range k {
		bt := f.batch(i%len(f.devs), latencyBatch, day)
		t := time.Now()
		if err := mustIngest(ctx, s, bt); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t))
	}
	return pct(d, 50)
}

// logicalBytes is the size of a check-in as boltstore encodes it, key and
// value: what a store must keep at the least, the baseline of the size
// figures.
func logicalBytes(f *fleet) int {
	bt := f.batch(0, 1, benchDay)
	f.devs[0].next-- // not stored: give the number back
	r := bt.Records[0]
	return len(boltKey(r.Device, r.Seq)) + len(boltValue(r))
}

// boltSizes describes a bbolt file.
type boltSizes struct {
	file, used int64 // file size; pages up to the high-water mark
	freePages  int
	pageSize   int
	buckets    map[string]bolt.BucketStats // top-level buckets: checkins, days (the per-day index), trace (if any)…
}

// bucketBytes returns the pages a top-level bucket takes, 0 if absent.
func (sz boltSizes) bucketBytes(name string) int64 {
	st := sz.buckets[name]
	return int64(st.BranchAlloc + st.LeafAlloc)
}

// measureBolt measures the bbolt file at path, which nothing has open.
func measureBolt(tb testing.TB, path string) boltSizes {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	sz := boltSizes{file: fi.Size(), freePages: db.Stats().FreePageN, pageSize: db.Info().PageSize, buckets: map[string]bolt.BucketStats{}}
	err = db.View(func(tx *bolt.Tx) error {
		sz.used = tx.Size()
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			sz.buckets[string(name)] = b.Stats()
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return sz
}

// perCheckIn formats sizes per check-in.
func perCheckIn(sizes map[string]int64, n float64) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(sizes)) {
		parts = append(parts, fmt.Sprintf("%s %.1f", name, float64(sizes[name])/n))
	}
	return strings.Join(parts, ", ")
}

// pgSizes describes pgstore's check-in partitions.
type pgSizes struct {
	rows, partitions   int64
	heap, index, total int64
	indexes            map[string]int64 // index on checkins → bytes in all partitions
}

// measurePG measures the partitions of checkins in the database at dsn:
// rows, heap (main fork), indexes, and pg_total_relation_size (heap,
// TOAST, free space and visibility maps, indexes).
func measurePG(tb testing.TB, dsn string) pgSizes {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var sz pgSizes
	err = conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(pg_relation_size(relid)), 0)::bigint,
			coalesce(sum(pg_indexes_size(relid)), 0)::bigint, coalesce(sum(pg_total_relation_size(relid)), 0)::bigint
		FROM pg_partition_tree('checkins') WHERE isleaf`).Scan(&sz.partitions, &sz.heap, &sz.index, &sz.total)
	if err != nil {
		tb.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM checkins").Scan(&sz.rows); err != nil {
		tb.Fatal(err)
	}
	// Each index of the partitions, under the name of the index on
	// checkins it belongs to.
	rows, _ := conn.Query(ctx, `SELECT inh.inhparent::regclass::text, sum(pg_relation_size(i.indexrelid))::bigint
		FROM pg_partition_tree('checkins') p JOIN pg_index i ON i.indrelid = p.relid
		JOIN pg_inherits inh ON inh.inhrelid = i.indexrelid
		WHERE p.isleaf GROUP BY 1 ORDER BY 1`)
	sz.indexes = map[string]int64{}
	var name string
	var bytes int64
	if _, err := pgx.ForEachRow(rows, []any{&name, &bytes}, func() error { sz.indexes[name] = bytes; return nil }); err != nil {
		tb.Fatal(err)
	}
	return sz
}

// dropDays is how many days of N check-ins BenchmarkRetention fills and
// drops, one after the other: its figures are the median of the three.
const dropDays = 3

// BenchmarkRetention fills three KST days with N check-ins each (100,000,
// or 1.3 million with ANSHIM_BENCH_FULL=1) and a fourth with N/10, through
// the store's own Ingest in batches of 4,000 records from N/4,000 devices
// with fsync (bbolt) or synchronous commit (PostgreSQL) off, and reports
// the store's size per check-in. Then, fsync and synchronous commit on, it
// drops the three days one after the other, each DropDay followed by the
// raw way to drop the same rows: bbolt DeleteBucket of a bucket holding
// the same keys and values (the layout where a day is a bucket),
// PostgreSQL DROP TABLE of a plain table holding the same rows. drop-ms
// and raw-drop-ms are medians of three, drop-ratio the median of the three
// ratios. ingest20 figures are the p50 of 41 Ingests of a 20-record batch
// into the fourth day, before the first drop and after each (median).
// With ANSHIM_BENCH_COLD=1 each day's files (and the baseline's) leave the
// page cache before the day is dropped. One iteration is one fill; ns/op
// is not reported.
func BenchmarkRetention(b *testing.B) {
	n := dayN()
	b.Run(fmt.Sprintf("bolt/n=%d", n), func(b *testing.B) {
		for range b.N {
			retentionBolt(b, n)
		}
		b.ReportMetric(0, "ns/op")
	})
	b.Run(fmt.Sprintf("pg/n=%d", n), func(b *testing.B) {
		for range b.N {
			retentionPG(b, n)
		}
		b.ReportMetric(0, "ns/op")
	})
}

// reportSize reports a store's size per check-in and per million, against
// the logical size of a check-in.
func reportSize(b *testing.B, bytes int64, records int, logical int) {
	per := float64(bytes) / float64(records)
	b.ReportMetric(per, "B/checkin")
	b.ReportMetric(per*1e6/1e6, "MB/million") // 10⁶ bytes per 10⁶ check-ins: the same number
	b.ReportMetric(float64(logical), "logical-B/checkin")
	b.ReportMetric(per/float64(logical), "size-ratio")
}

// retentionDays returns the days BenchmarkRetention fills: dropDays days
// of N check-ins, then the day of N/10.
func retentionDays() []time.Time {
	days := make([]time.Time, dropDays+1)
	for i := range days {
		days[i] = benchDay.AddDate(0, 0, i)
	}
	return days
}

// drops collects the timings of the drops.
type drops struct {
	store, raw, ratio, count []time.Duration
	ingestAfter              []time.Duration
}

func (d *drops) report(b *testing.B, before time.Duration) {
	med := func(x []time.Duration) float64 { return ms(pct(x, 50)) }
	b.ReportMetric(med(d.store), "drop-ms")
	b.ReportMetric(ms(slices.Max(d.store)), "drop-max-ms")
	b.ReportMetric(med(d.raw), "raw-drop-ms")
	ratios := make([]float64, len(d.store))
	for i := range ratios {
		ratios[i] = ms(d.store[i]) / ms(d.raw[i])
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "drop-ratio")
	if len(d.count) > 0 {
		b.ReportMetric(med(d.count), "count-ms")
	}
	b.ReportMetric(ms(before), "ingest20-before-ms")
	b.ReportMetric(med(d.ingestAfter), "ingest20-after-ms")
}

func retentionBolt(b *testing.B, n int) {
	ctx := context.Background()
	dir := b.TempDir()
	path, rawPath := filepath.Join(dir, "central.db"), filepath.Join(dir, "raw.db")
	days := retentionDays()
	f := newFleet(b, (n+fillBatch-1)/fillBatch, 2)
	logical := logicalBytes(f)

	// Fill, without fsync; the baseline gets the same records of each
	// dropped day in a bucket of the day's.
	s := openBolt(b, path, true)
	rawFill, err := bolt.Open(rawPath, 0o600, &bolt.Options{Timeout: 5 * time.Second, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer rawFill.Close()
	f.enroll(b, s)
	var el time.Duration
	for _, day := range days[:dropDays] {
		bucket := []byte(day.Format("20060102"))
		el += fillDay(b, "bolt", s, f, n, day, 1, func(bt store.Batch) error {
			return rawFill.Update(func(tx *bolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists(bucket)
				if err != nil {
					return err
				}
				for i := range bt.Records {
					r := &bt.Records[i]
					if err := bk.Put(boltKey(r.Device, r.Seq), boltValue(*r)); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
	el += fillDay(b, "bolt", s, f, n/10, days[dropDays], 1, nil)
	total := dropDays*n + n/10
	b.ReportMetric(float64(total)/el.Seconds(), "fill-records/s")
	s.Close()
	rawFill.Close()
	fsyncFile(b, path)
	fsyncFile(b, rawPath)

	sz := measureBolt(b, path)
	reportSize(b, sz.file, total, logical)
	b.ReportMetric(float64(sz.used)/float64(total), "used-B/checkin")
	for _, name := range []string{"checkins", "days", "trace"} {
		if st, ok := sz.buckets[name]; ok {
			b.ReportMetric(float64(sz.bucketBytes(name))/float64(total), name+"-B/checkin")
			progressf("bolt: bucket %s: %d keys, %d B (%.1f B/check-in), leaf pages %.0f%% in use", name, st.KeyN,
				sz.bucketBytes(name), float64(sz.bucketBytes(name))/float64(total), 100*float64(st.LeafInuse)/float64(max(1, st.LeafAlloc)))
		}
	}
	progressf("bolt: %d check-ins: file %d B, used %d B, free pages %d", total, sz.file, sz.used, sz.freePages)

	// The drops, fsync on, each followed by the baseline's and by Ingests
	// into the last day.
	t := time.Now()
	s = openBolt(b, path, false)
	open := time.Since(t)
	b.ReportMetric(ms(open), "open-ms")
	progressf("bolt: store of %d MB opened in %v", sz.file/1e6, open.Round(time.Millisecond))
	rawDB, err := bolt.Open(rawPath, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { rawDB.Close() }()
	last := days[dropDays]
	sampleIngest(b, s, f, 1, last) // warm-up
	before := sampleIngest(b, s, f, 41, last)
	var d drops
	for _, day := range days[:dropDays] {
		if cold() { // both files out of the page cache, then open again
			s.Close()
			rawDB.Close()
			for _, p := range []string{path, rawPath} {
				if err := evict(p); err != nil {
					b.Fatal(err)
				}
			}
			s = openBolt(b, path, false)
			if rawDB, err = bolt.Open(rawPath, 0o600, &bolt.Options{Timeout: 5 * time.Second}); err != nil {
				b.Fatal(err)
			}
		}
		t = time.Now()
		got, err := s.DropDay(ctx, day.Add(12*time.Hour))
		drop := time.Since(t)
		if err != nil || got != n {
			b.Fatalf("DropDay = %d, %v; want %d", got, err, n)
		}
		t = time.Now()
		err = rawDB.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(day.Format("20060102"))) })
		rawDrop := time.Since(t)
		if err != nil {
			b.Fatal(err)
		}
		after := sampleIngest(b, s, f, 41, last)
		d.store, d.raw, d.ingestAfter = append(d.store, drop), append(d.raw, rawDrop), append(d.ingestAfter, after)
		progressf("bolt: DropDay of %d check-ins in %v, raw DeleteBucket of the same records in %v; then a 20-record Ingest p50 %v (%v before the first drop)",
			n, drop.Round(time.Millisecond), rawDrop.Round(time.Microsecond), after, before)
	}
	s.Close()
	szAfter := measureBolt(b, path)
	d.report(b, before)
	b.ReportMetric(float64(szAfter.file)/1e6, "file-after-MB")
	b.ReportMetric(float64(szAfter.freePages*szAfter.pageSize)/1e6, "free-after-MB")
}

// evictPG evicts the files of tables and their indexes from the page
// cache, after a checkpoint, when the server's data directory is on this
// machine and readable (a superuser's connection); otherwise it says that
// the drop is measured warm. PostgreSQL's own shared buffers (128 MB by
// default) keep what they hold.
func evictPG(b *testing.B, conn *pgx.Conn, tables ...string) {
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		progressf("pg: cold: CHECKPOINT: %v: measured warm", err)
		return
	}
	rows, _ := conn.Query(ctx, `SELECT current_setting('data_directory') || '/' || pg_relation_filepath(c.oid)
		FROM pg_class c WHERE c.oid = ANY($1::regclass[])
		   OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY($1::regclass[]))`, tables)
	files, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		progressf("pg: cold: %v: measured warm", err)
		return
	}
	for _, f := range files {
		for _, fork := range []string{"", "_fsm", "_vm"} {
			if err := evict(f + fork); err != nil && !(fork != "" && errors.Is(err, os.ErrNotExist)) {
				progressf("pg: cold: %v: measured warm", err)
				return
			}
		}
	}
}

func retentionPG(b *testing.B, n int) {
	ctx := context.Background()
	dsn := pgDSN(b)
	days := retentionDays()
	f := newFleet(b, (n+fillBatch-1)/fillBatch, 2)
	logical := logicalBytes(f)

	// Fill with the store's own Ingest, synchronous commit off, 2 writers.
	s := openPG(b, dsn, true)
	f.enroll(b, s)
	var el time.Duration
	for _, day := range days[:dropDays] {
		el += fillDay(b, "pg", s, f, n, day, 2, nil)
	}
	el += fillDay(b, "pg", s, f, n/10, days[dropDays], 2, nil)
	total := dropDays*n + n/10
	b.ReportMetric(float64(total)/el.Seconds(), "fill-records/s")
	s.Close()

	// The baseline tables: the same rows, copied by the server.
	rawTable := func(day time.Time) string { return "raw_" + day.Format("20060102") }
	for _, day := range days[:dropDays] {
		raw := openRawPG(b, dsn, rawTable(day), 1, true)
		t := time.Now()
		tag, err := raw.pool.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT * FROM checkins_%s", rawTable(day), day.Format("20060102")))
		if err != nil || tag.RowsAffected() != int64(n) {
			b.Fatalf("fill the baseline table: %v, %v", tag, err)
		}
		raw.pool.Close()
		progressf("pg: baseline table %s filled with %d rows in %v", rawTable(day), n, time.Since(t).Round(time.Millisecond))
	}
	checkpoint(b, dsn)

	sz := measurePG(b, dsn)
	if sz.rows != int64(total) {
		b.Fatalf("%d rows in checkins, want %d", sz.rows, total)
	}
	reportSize(b, sz.total, total, logical)
	b.ReportMetric(float64(sz.heap)/float64(total), "heap-B/checkin")
	b.ReportMetric(float64(sz.index)/float64(total), "index-B/checkin")
	progressf("pg: %d check-ins in %d partitions: total %d B (heap %d, indexes %d)", total, sz.partitions, sz.total, sz.heap, sz.index)
	for name, bytes := range sz.indexes {
		b.ReportMetric(float64(bytes)/float64(total), name+"-B/checkin")
		progressf("pg: index %s: %d B (%.1f B/check-in)", name, bytes, float64(bytes)/float64(total))
	}

	// The drops, synchronous commit on, each followed by what its count(*)
	// costs on the same rows in the baseline table (DropDay counts while it
	// holds checkins ACCESS EXCLUSIVE), the baseline's DROP TABLE, and
	// Ingests into the last day.
	s = openPG(b, dsn, false)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	last := days[dropDays]
	sampleIngest(b, s, f, 1, last) // warm-up
	before := sampleIngest(b, s, f, 41, last)
	var d drops
	for _, day := range days[:dropDays] {
		if cold() {
			evictPG(b, conn, "checkins_"+day.Format("20060102"), rawTable(day))
		}
		t := time.Now()
		got, err := s.DropDay(ctx, day.Add(12*time.Hour))
		drop := time.Since(t)
		if err != nil || got != n {
			b.Fatalf("DropDay = %d, %v; want %d", got, err, n)
		}
		var rows int
		t = time.Now()
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+rawTable(day)).Scan(&rows); err != nil || rows != n {
			b.Fatalf("count the baseline table: %d, %v", rows, err)
		}
		count := time.Since(t)
		t = time.Now()
		if _, err := conn.Exec(ctx, "DROP TABLE "+rawTable(day)); err != nil {
			b.Fatal(err)
		}
		rawDrop := time.Since(t)
		after := sampleIngest(b, s, f, 41, last)
		d.store, d.raw, d.count, d.ingestAfter = append(d.store, drop), append(d.raw, rawDrop), append(d.count, count), append(d.ingestAfter, after)
		progressf("pg: DropDay of %d check-ins in %v, raw DROP TABLE of the same rows in %v (count(*) of them %v); then a 20-record Ingest p50 %v (%v before the first drop)",
			n, drop.Round(time.Millisecond), rawDrop.Round(time.Microsecond), count.Round(time.Microsecond), after, before)
	}
	d.report(b, before)
}
