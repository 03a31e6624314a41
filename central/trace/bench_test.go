package trace

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/checkin"
)

// The synthetic set of BenchmarkTrace (a tenth of it with -short): venues
// of every category, people checking in uniformly at random between 08:00
// and 22:00 KST over three days, half of them scanning out 10 to 120
// minutes later.
const (
	benchVenues   = 200
	benchPeople   = 20_000
	benchDays     = 3
	benchCheckIns = 200_000
)

var benchDay0 = at(20, 0, 0)

// benchSet is a seeded store with its keys, and the DSN of its database
// for PostgreSQL.
type benchSet struct {
	w       *world
	dsn     string
	people  [][16]byte
	records int
}

var (
	benchMu   sync.Mutex
	benchSets = map[string]*benchSet{}
)

// seedBench builds (once per backend and process) the synthetic set.
func seedBench(b *testing.B, backend string) *benchSet {
	benchMu.Lock()
	defer benchMu.Unlock()
	if s := benchSets[backend]; s != nil {
		return s
	}
	scale := 1
	if testing.Short() {
		scale = 10
	}
	var st store.Store
	set := &benchSet{}
	switch backend {
	case "bolt":
		st = openStore(&noCleanup{b}, backend)
	case "pg":
		set.dsn = pgtest.NewDatabase(&noCleanup{b})
		var err error
		if st, err = pgstore.Open(context.Background(), set.dsn, nil); err != nil {
			b.Fatal(err)
		}
	}
	set.w = newWorld(&noCleanup{b}, st)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range benchPeople / scale {
		var p [16]byte
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		p[0], p[1] = byte(i>>8), byte(i)
		set.people = append(set.people, p)
	}
	cats := registry.Categories()
	perVenue := make([][]store.CheckIn, benchVenues)
	for v := range benchVenues {
		set.w.venue(fmt.Sprintf("v%03d", v), cats[v%len(cats)], 0)
	}
	n := benchCheckIns / scale
	for count := 0; count < n; {
		v := rng.IntN(benchVenues)
		who := set.people[rng.IntN(len(set.people))]
		t := benchDay0.Add(time.Duration(rng.IntN(benchDays))*24*time.Hour + 8*time.Hour + time.Duration(rng.IntN(14*60))*time.Minute)
		perVenue[v] = append(perVenue[v], benchRecord(who, fmt.Sprintf("v%03d", v), checkin.Entry, t))
		count++
		if rng.IntN(2) == 0 && count < n {
			perVenue[v] = append(perVenue[v], benchRecord(who, fmt.Sprintf("v%03d", v), checkin.Exit, t.Add(time.Duration(10+rng.IntN(110))*time.Minute)))
			count++
		}
	}
	ctx := context.Background()
	for v, rs := range perVenue {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Time.Before(rs[j].Time) })
		dev := fmt.Sprintf("k-v%03d", v)
		for i := range rs {
			seq := uint64(i + 1)
			p := checkin.Personal{Pseudonym: [16]byte(rs[i].Sealed), PassKind: 1}
			day := daykeys.DayOf(rs[i].Time)
			sealed, err := set.w.keys.Seal(day, p.AppendBinary(nil), daykeys.AD(dev, seq))
			if err != nil {
				b.Fatal(err)
			}
			rs[i].Device, rs[i].Seq, rs[i].Sealed = dev, seq, sealed
			rs[i].Tag, _ = set.w.keys.Tag(day, p.Pseudonym)
		}
		for i := 0; i < len(rs); i += 1000 {
			chunk := rs[i:min(i+1000, len(rs))]
			if _, err := st.Ingest(ctx, store.Batch{Device: dev, Records: chunk, LastSeq: chunk[len(chunk)-1].Seq}); err != nil {
				b.Fatal(err)
			}
		}
		set.records += len(rs)
	}
	benchSets[backend] = set
	return set
}

// benchRecord is a check-in whose Sealed holds the pseudonym until it is
// sealed.
func benchRecord(who [16]byte, venue string, kind checkin.Kind, t time.Time) store.CheckIn {
	return store.CheckIn{Venue: venue, Kind: kind, RawWall: t, Time: t, Quality: 1, Sealed: who[:], Received: t}
}

// noCleanup keeps the benchmark's data for the whole process: b.Cleanup
// would drop it after the first run of b.N.
type noCleanup struct{ testing.TB }

func (noCleanup) Cleanup(func()) {}
func (n noCleanup) TempDir() string {
	d, err := os.MkdirTemp("", "anshim-trace-bench-")
	if err != nil {
		n.Fatal(err)
	}
	return d
}

// percentiles reports p50 and p99 of the durations, in milliseconds.
func percentiles(b *testing.B, ds []time.Duration, prefix string) {
	slices.Sort(ds)
	if len(ds) == 0 {
		return
	}
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(ds[min(len(ds)-1, len(ds)*99/100)].Microseconds())/1000, prefix+"p99-ms")
}

// BenchmarkTrace measures degree-2 traces of random people on the
// synthetic set, on bbolt and (with ANSHIM_TEST_PG) PostgreSQL, and on
// PostgreSQL a plain SQL self-join as a baseline: the degree-1 overlaps of
// the case's entries with 60-minute stays, without pairing exits, opening
// sealed parts or following contacts.
//
//	go test -run '^$' -bench Trace -benchtime 50x ./central/trace/
func BenchmarkTrace(b *testing.B) {
	for _, backend := range backends() {
		b.Run(backend, func(b *testing.B) {
			set := seedBench(b, backend)
			tr := set.w.tracer(benchDay0.Add(benchDays * 24 * time.Hour))
			rng := rand.New(rand.NewPCG(3, 4))
			var ds []time.Duration
			contacts, read, opened := 0, 0, 0
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				res, err := tr.Trace(context.Background(), Request{Pseudonym: set.people[rng.IntN(len(set.people))],
					Onset: benchDay0.Add(2 * 24 * time.Hour), Isolation: benchDay0.Add(benchDays * 24 * time.Hour)})
				if err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
				contacts += len(res.Contacts)
				read += res.Stats.CheckIns
				opened += res.Stats.Opened
			}
			percentiles(b, ds, "")
			b.ReportMetric(float64(contacts)/float64(len(ds)), "contacts/trace")
			b.ReportMetric(float64(read)/float64(len(ds)), "read/trace")
			b.ReportMetric(float64(opened)/float64(len(ds)), "opened/trace")
			b.ReportMetric(float64(set.records), "check-ins")
		})
	}
	if os.Getenv("ANSHIM_TEST_PG") == "" {
		return
	}
	b.Run("pg-sql-join", func(b *testing.B) {
		set := seedBench(b, "pg")
		conn, err := pgx.Connect(context.Background(), set.dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(context.Background())
		rng := rand.New(rand.NewPCG(3, 4))
		var ds []time.Duration
		pairs := 0
		b.ResetTimer()
		for b.Loop() {
			who := set.people[rng.IntN(len(set.people))]
			var tags [][]byte
			for d := range benchDays {
				tag, _ := set.w.keys.Tag(daykeys.DayOf(benchDay0)+daykeys.Day(d), who)
				tags = append(tags, tag[:])
			}
			start := time.Now()
			var n int
			err := conn.QueryRow(context.Background(), `SELECT count(DISTINCT (b.device, b.seq))
				FROM checkins a JOIN checkins b
				  ON a.venue = b.venue AND b.day = a.day
				 AND b.time < a.time + interval '60 minutes' AND b.time + interval '60 minutes' > a.time
				WHERE a.tag = ANY($1) AND a.kind = 1 AND b.kind = 1 AND b.tag <> a.tag`, tags).Scan(&n)
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
			pairs += n
		}
		percentiles(b, ds, "")
		b.ReportMetric(float64(pairs)/float64(len(ds)), "contacts/trace")
	})
}
