package synth

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/central/trace"
)

// envInt reads a scale from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestProvinceBench loads a synthetic province (with
// ANSHIM_SYNTH_BENCH=1; scale from ANSHIM_SYNTH_VENUES, _PEOPLE, _DAYS,
// _PER_DAY, cases from _CASES) on bbolt and, with ANSHIM_TEST_PG, on
// PostgreSQL, and logs the load rate and the p50/p99 of degree-2 and
// degree-3 traces of random residents, and on PostgreSQL of a plain SQL
// self-join (degree-1 overlaps of the case's entries with 60-minute stays;
// no exits, no opening, no onward contacts) as a baseline.
//
//	ANSHIM_SYNTH_BENCH=1 ANSHIM_SYNTH_VENUES=5000 ANSHIM_SYNTH_PEOPLE=100000 \
//	ANSHIM_SYNTH_DAYS=28 ANSHIM_SYNTH_PER_DAY=130000 go test -run ProvinceBench -v -timeout 2h ./central/synth/
func TestProvinceBench(t *testing.T) {
	if os.Getenv("ANSHIM_SYNTH_BENCH") == "" {
		t.Skip("set ANSHIM_SYNTH_BENCH=1 (and the ANSHIM_SYNTH_* scale) to run")
	}
	backends := []string{"bolt"}
	if os.Getenv("ANSHIM_TEST_PG") != "" {
		backends = append(backends, "pg")
	}
	if b := os.Getenv("ANSHIM_SYNTH_BACKENDS"); b != "" {
		backends = filepath.SplitList(b)
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { provinceBench(t, backend) })
	}
}

func provinceBench(t *testing.T, backend string) {
	ctx := context.Background()
	cfg := Config{
		Venues: envInt("ANSHIM_SYNTH_VENUES", 2000),
		People: envInt("ANSHIM_SYNTH_PEOPLE", 40000),
		Days:   envInt("ANSHIM_SYNTH_DAYS", 28),
		PerDay: envInt("ANSHIM_SYNTH_PER_DAY", 52000),
		Seed:   uint64(envInt("ANSHIM_SYNTH_SEED", 1)),
	}
	cfg.First = daykeys.DayOf(time.Now()) - daykeys.Day(cfg.Days) // whole days, ending yesterday
	cases := envInt("ANSHIM_SYNTH_CASES", 100)
	var st store.Store
	var dsn string
	var err error
	switch backend {
	case "bolt":
		st, err = boltstore.Open(filepath.Join(t.TempDir(), "central.db"), &boltstore.Options{NoSync: true})
	case "pg":
		dsn = pgtest.NewDatabase(t)
		st, err = pgstore.Open(ctx, dsn, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kek := sha256.Sum256([]byte("synth bench kek"))
	keys, err := daykeys.Open(filepath.Join(t.TempDir(), "daykeys"), kek[:], p.First())
	if err != nil {
		t.Fatal(err)
	}
	last := time.Now()
	p.SetProgress(func(pr Progress) {
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			t.Logf("%s: %d/%d, %.0f/s, ETA %s", backend, pr.Done, pr.Total, pr.Rate(), pr.ETA().Round(time.Second))
		}
	})
	stats, err := p.Load(ctx, st, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: LOAD %d check-ins (%d venues, %d people, %d tourists, %d days) in %s: %.0f check-ins/s",
		backend, stats.CheckIns, stats.Venues, stats.People, stats.Tourists, cfg.Days,
		stats.Elapsed.Round(time.Millisecond), float64(stats.CheckIns)/stats.Elapsed.Seconds())
	if pg, ok := st.(interface{ Analyze(context.Context) error }); ok {
		_ = pg.Analyze(ctx)
	} else if dsn != "" {
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			_, _ = conn.Exec(ctx, "ANALYZE checkins")
			conn.Close(ctx)
		}
	}

	end := (p.First() + daykeys.Day(cfg.Days)).Start()
	onset := p.First() + daykeys.Day(cfg.Days) - 4
	tr := trace.New(st, keys, &trace.Options{Now: func() time.Time { return end }, VenueCache: time.Minute})
	for _, deg := range []int{2, 3} {
		rng := rand.New(rand.NewPCG(9, uint64(deg)))
		var ds []time.Duration
		contacts, queries := 0, 0
		for range cases {
			who := p.Pseudonym(rng.IntN(cfg.People))
			start := time.Now()
			res, err := tr.Trace(ctx, trace.Request{Pseudonym: who, Onset: onset.Start(), Isolation: end, Degree: deg})
			if err != nil {
				t.Fatal(err)
			}
			ds = append(ds, time.Since(start))
			contacts += len(res.Contacts)
			queries += res.Stats.VenueQueries + res.Stats.TagQueries
		}
		p50, p99 := pct(ds)
		t.Logf("%s: TRACE degree %d, %d cases: p50 %s p99 %s; %.0f contacts, %.0f queries a trace",
			backend, deg, cases, p50, p99, float64(contacts)/float64(cases), float64(queries)/float64(cases))
	}
	if dsn == "" {
		return
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rng := rand.New(rand.NewPCG(9, 2))
	var ds []time.Duration
	pairs := 0
	for range cases {
		who := p.Pseudonym(rng.IntN(cfg.People))
		var tags [][]byte
		for d := onset - 2; d < p.First()+daykeys.Day(cfg.Days); d++ {
			tag, _ := keys.Tag(d, who)
			tags = append(tags, tag[:])
		}
		start := time.Now()
		var n int
		err := conn.QueryRow(ctx, `SELECT count(DISTINCT (b.device, b.seq))
			FROM checkins a JOIN checkins b
			  ON a.venue = b.venue AND b.day = a.day
			 AND b.time < a.time + interval '60 minutes' AND b.time + interval '60 minutes' > a.time
			WHERE a.tag = ANY($1) AND a.kind = 1 AND b.kind = 1 AND b.tag <> a.tag`, tags).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, time.Since(start))
		pairs += n
	}
	p50, p99 := pct(ds)
	t.Logf("%s: SQL self-join baseline (degree 1), %d cases: p50 %s p99 %s; %.0f pairs a case", backend, cases, p50, p99, float64(pairs)/float64(cases))
}

func pct(ds []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(ds)
	return ds[len(ds)/2].Round(10 * time.Microsecond), ds[min(len(ds)-1, len(ds)*99/100)].Round(10 * time.Microsecond)
}
