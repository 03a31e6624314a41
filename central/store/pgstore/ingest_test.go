package pgstore

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// kst is Korea Standard Time for the tests' dates.
var kst = time.FixedZone("KST", 9*60*60)

// enroll adds venue v-1 (if need be) and the device.
func enroll(tb testing.TB, s store.Store, device string) {
	tb.Helper()
	ctx := context.Background()
	if err := s.AddVenue(ctx, store.Venue{ID: "v-1", Name: "Café", Created: time.Now()}); err != nil && !errors.Is(err, store.ErrExists) {
		tb.Fatal(err)
	}
	seed := sha256.Sum256([]byte(device))
	key := ed25519.NewKeyFromSeed(seed[:])
	if err := s.AddDevice(ctx, store.Device{ID: device, Venue: "v-1", PublicKey: key.Public().(ed25519.PublicKey), NKey: "U" + device}); err != nil {
		tb.Fatal(err)
	}
}

// records makes check-ins 1..n of device, record i (from 0) corrected to
// at(i). The store does not check chain hashes: these are arbitrary.
func records(device string, n int, at func(i int) time.Time) []store.CheckIn {
	out := make([]store.CheckIn, n)
	for i := range out {
		t := at(i)
		out[i] = store.CheckIn{
			Device: device, Seq: uint64(i + 1), Venue: "v-1", Kind: checkin.Entry,
			RawWall: t.Add(-time.Duration(i) * time.Nanosecond), Quality: checkin.NTPSynced,
			Boot: [16]byte{1}, Mono: time.Duration(i) * time.Second, Time: t,
			Sealed:   make([]byte, checkin.SealedLen),
			Hash:     sha256.Sum256(fmt.Appendf(nil, "%s/%d", device, i+1)),
			Received: t.Add(time.Minute),
		}
	}
	return out
}

// batch returns the batch of recs[first-1 : last].
func batch(recs []store.CheckIn, first, last uint64) store.Batch {
	return store.Batch{
		Device:   recs[0].Device,
		Records:  slices.Clone(recs[first-1 : last]),
		LastSeq:  last,
		LastHash: recs[last-1].Hash,
	}
}

func mustIngest(tb testing.TB, s store.Store, b store.Batch, want int) {
	tb.Helper()
	n, err := s.Ingest(context.Background(), b)
	if err != nil {
		tb.Fatalf("Ingest %s %d records: %v", b.Device, len(b.Records), err)
	}
	if n != want {
		tb.Fatalf("Ingest %s stored %d records, want %d", b.Device, n, want)
	}
}

func storedSeqs(tb testing.TB, s store.Store, device string) []uint64 {
	tb.Helper()
	var out []uint64
	if err := s.CheckIns(context.Background(), device, 0, func(c store.CheckIn) bool {
		out = append(out, c.Seq)
		return true
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

// partitions returns the partitions of checkins and their row counts.
func partitions(tb testing.TB, s *Store) map[string]int {
	tb.Helper()
	ctx := context.Background()
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'checkins'::regclass`)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]int)
	for _, n := range names {
		var count int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+n).Scan(&count); err != nil {
			tb.Fatal(err)
		}
		out[n] = count
	}
	return out
}

// Ensure that a record goes to the partition of the KST calendar day of
// its corrected time (15:00 UTC starts the next day), and that CheckIns
// reads across partitions in sequence order, whatever the days' order.
func TestIngest_KSTDay(t *testing.T) {
	s := openStore(t, newDatabase(t), nil)
	enroll(t, s, "k-1")
	at := []time.Time{
		time.Date(2026, 11, 25, 14, 59, 59, 999999999, time.UTC), // 23:59:59.999999999 KST on the 25th
		time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC),           // 00:00 KST on the 26th
		time.Date(2026, 11, 26, 23, 0, 0, 0, kst),
		time.Date(2026, 11, 24, 12, 0, 0, 0, kst), // a clock corrected backwards
	}
	recs := records("k-1", len(at), func(i int) time.Time { return at[i] })
	mustIngest(t, s, batch(recs, 1, 4), 4)
	want := map[string]int{"checkins_20261124": 1, "checkins_20261125": 1, "checkins_20261126": 2}
	if got := partitions(t, s); !equalMaps(got, want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}
	var got []store.CheckIn
	if err := s.CheckIns(context.Background(), "k-1", 0, func(c store.CheckIn) bool {
		got = append(got, c)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	for i, c := range got {
		if c.Seq != uint64(i+1) || !c.Time.Equal(at[i]) || !c.RawWall.Equal(recs[i].RawWall) {
			t.Fatalf("check-in %d: seq %d time %v raw %v; want seq %d time %v raw %v", i, c.Seq, c.Time, c.RawWall, i+1, at[i], recs[i].RawWall)
		}
	}
	if len(got) != len(at) {
		t.Fatalf("CheckIns: %d records, want %d", len(got), len(at))
	}
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// Ensure that DropDay removes exactly that day's check-ins, keeps the
// device state, and that Ingest never stores a record of the day again but
// refuses it, naming it.
func TestDropDay(t *testing.T) {
	s := openStore(t, newDatabase(t), nil)
	ctx := context.Background()
	enroll(t, s, "k-1")
	enroll(t, s, "k-2")
	// 12 records, 4 a day over 25..27 Nov (KST), some near midnight.
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, kst)
	recs := records("k-1", 12, func(i int) time.Time {
		return start.AddDate(0, 0, i/4).Add(time.Duration(i%4) * 8 * time.Hour).Add(-time.Nanosecond * time.Duration(i%4))
	})
	mustIngest(t, s, batch(recs, 1, 12), 12)
	other := records("k-2", 2, func(i int) time.Time { return start.AddDate(0, 0, 2*i) }) // 25th and 27th
	mustIngest(t, s, batch(other, 1, 2), 2)
	before := partitions(t, s)
	if want := map[string]int{"checkins_20261125": 5, "checkins_20261126": 4, "checkins_20261127": 5}; !equalMaps(before, want) {
		t.Fatalf("partitions %v, want %v", before, want)
	}
	stateBefore, err := s.State(ctx, "k-1")
	if err != nil {
		t.Fatal(err)
	}

	// Any instant of the 26th in KST names the day: here 15:30 UTC on the 25th.
	if _, err := s.DropDay(ctx, time.Date(2026, 11, 25, 15, 30, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if got, want := partitions(t, s), map[string]int{"checkins_20261125": 5, "checkins_20261127": 5}; !equalMaps(got, want) {
		t.Fatalf("partitions after DropDay %v, want %v", got, want)
	}
	if got, want := storedSeqs(t, s, "k-1"), []uint64{1, 2, 3, 4, 9, 10, 11, 12}; !slices.Equal(got, want) {
		t.Fatalf("k-1 check-ins after DropDay: %v, want %v", got, want)
	}
	if got := storedSeqs(t, s, "k-2"); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("k-2 check-ins after DropDay: %v", got)
	}
	if st, err := s.State(ctx, "k-1"); err != nil || st != stateBefore {
		t.Fatalf("state after DropDay %+v, %v; want %+v", st, err, stateBefore)
	}

	// A redelivery is refused, naming the records of the dropped day, and
	// the day stays dropped, also for another device.
	refused := func(b store.Batch, want []uint64) {
		t.Helper()
		var dd *store.DayDroppedError
		if n, err := s.Ingest(ctx, b); !errors.As(err, &dd) || n != 0 || !slices.Equal(dd.Seqs, want) {
			t.Fatalf("Ingest of a dropped day's records = %d, %v; want a DayDroppedError naming %v", n, err, want)
		}
	}
	refused(batch(recs, 1, 12), []uint64{5, 6, 7, 8})
	late := records("k-2", 3, func(i int) time.Time { return start.AddDate(0, 0, 1).Add(time.Hour) })
	refused(batch(late, 3, 3), []uint64{3})
	if got, want := partitions(t, s), map[string]int{"checkins_20261125": 5, "checkins_20261127": 5}; !equalMaps(got, want) {
		t.Fatalf("partitions after the redelivery %v, want %v", got, want)
	}
	if st, _ := s.State(ctx, "k-2"); st.LastSeq != 2 || st.Records != 2 {
		t.Fatalf("k-2 state after a refused batch of a dropped day: %+v (want last seq 2, 2 records)", st)
	}

	// Again, and a day without check-ins: no error.
	if _, err := s.DropDay(ctx, time.Date(2026, 11, 26, 12, 0, 0, 0, kst)); err != nil {
		t.Fatalf("DropDay twice: %v", err)
	}
	if _, err := s.DropDay(ctx, time.Date(2025, 1, 1, 12, 0, 0, 0, kst)); err != nil {
		t.Fatalf("DropDay of an empty day: %v", err)
	}
}

// Ensure that a store that knew a partition which another process then
// dropped refuses the day's records (a DayDroppedError) without bringing
// the day back.
func TestDropDay_OtherProcess(t *testing.T) {
	dsn := newDatabase(t)
	s1, s2 := openStore(t, dsn, nil), openStore(t, dsn, nil)
	enroll(t, s1, "k-1")
	day := time.Date(2026, 11, 26, 10, 0, 0, 0, kst)
	recs := records("k-1", 4, func(i int) time.Time { return day.Add(time.Duration(i) * time.Minute) })
	mustIngest(t, s1, batch(recs, 1, 2), 2) // s1 now knows the partition
	if _, err := s2.DropDay(context.Background(), day); err != nil {
		t.Fatal(err)
	}
	var dd *store.DayDroppedError
	if n, err := s1.Ingest(context.Background(), batch(recs, 3, 4)); !errors.As(err, &dd) || n != 0 {
		t.Fatalf("Ingest after another process dropped the day = %d, %v; want a DayDroppedError", n, err)
	}
	if got := partitions(t, s1); len(got) != 0 {
		t.Fatalf("partitions %v, want none", got)
	}
}

// Ensure that concurrent Ingests of several devices, through two stores
// (two central servers), into days whose partitions do not exist yet,
// make each partition once and store every record once.
func TestIngest_ConcurrentNewDays(t *testing.T) {
	dsn := newDatabase(t)
	stores := []*Store{openStore(t, dsn, nil), openStore(t, dsn, nil)}
	const devices, n = 4, 48
	start := time.Date(2026, 11, 25, 21, 0, 0, 0, kst)
	chains := make([][]store.CheckIn, devices)
	for d := range chains {
		id := fmt.Sprintf("k-%d", d)
		enroll(t, stores[0], id)
		// A record an hour from 21:00 KST: 3 days.
		chains[d] = records(id, n, func(i int) time.Time { return start.Add(time.Duration(i) * time.Hour) })
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := make([]int, devices)
	for w := range 3 * devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, s := w%devices, stores[w%2]
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range 8 {
				first := 1 + rng.Uint64N(n)
				last := min(first+rng.Uint64N(20), n)
				k, err := s.Ingest(context.Background(), batch(chains[d], first, last))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total[d] += k
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for d := range devices {
		k, err := stores[d%2].Ingest(context.Background(), batch(chains[d], 1, n))
		if err != nil {
			t.Fatal(err)
		}
		if total[d]+k != n {
			t.Errorf("device %d: Ingests reported %d new records in all, want %d", d, total[d]+k, n)
		}
		if got := storedSeqs(t, stores[0], chains[d][0].Device); len(got) != n {
			t.Errorf("device %d: %d records stored, want %d", d, len(got), n)
		}
	}
	want := map[string]int{"checkins_20261125": 3 * devices, "checkins_20261126": 24 * devices, "checkins_20261127": 21 * devices}
	if got := partitions(t, stores[0]); !equalMaps(got, want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}
}

// Ensure that Ingest refuses, whole, what the schema cannot hold.
func TestIngest_Limits(t *testing.T) {
	s := openStore(t, newDatabase(t), nil)
	enroll(t, s, "k-1")
	recs := records("k-1", 3, func(i int) time.Time { return time.Date(2026, 11, 26, 12, 0, i, 0, kst) })
	huge := batch(recs, 1, 3)
	huge.Records[2].Seq, huge.LastSeq = math.MaxInt64+1, math.MaxInt64+1
	if _, err := s.Ingest(context.Background(), huge); err == nil {
		t.Fatal("Ingest of a sequence number above 2⁶³−1 succeeded")
	}
	long := batch(recs, 1, 3)
	long.Records[1].Sealed = make([]byte, math.MaxUint16+1)
	if _, err := s.Ingest(context.Background(), long); err == nil {
		t.Fatal("Ingest of a sealed part over 65,535 bytes succeeded")
	}
	if got := storedSeqs(t, s, "k-1"); len(got) != 0 {
		t.Fatalf("refused batches stored %v", got)
	}
	// The largest sequence number it holds, read back with CheckIns.
	top := batch(recs, 1, 1)
	top.Records[0].Seq, top.LastSeq = math.MaxInt64, math.MaxInt64
	mustIngest(t, s, top, 1)
	if got := storedSeqs(t, s, "k-1"); !slices.Equal(got, []uint64{math.MaxInt64}) {
		t.Fatalf("stored %v", got)
	}
	var n int
	if err := s.CheckIns(context.Background(), "k-1", math.MaxInt64+1, func(store.CheckIn) bool { n++; return true }); err != nil || n != 0 {
		t.Fatalf("CheckIns from 2⁶³: %d records, %v", n, err)
	}
}
