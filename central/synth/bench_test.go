package synth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/trace"
)

// envInt reads a scale from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchConfig is the province of the ANSHIM_SYNTH_* scale.
func benchConfig() Config {
	return Config{
		Venues: envInt("ANSHIM_SYNTH_VENUES", 2000),
		People: envInt("ANSHIM_SYNTH_PEOPLE", 40000),
		Days:   envInt("ANSHIM_SYNTH_DAYS", 28),
		PerDay: envInt("ANSHIM_SYNTH_PER_DAY", 52000),
		Seed:   uint64(envInt("ANSHIM_SYNTH_SEED", 1)),
	}
}

// benchFixture opens the province of the ANSHIM_SYNTH_* scale on backend:
// the one kept in ANSHIM_SYNTH_KEEP (a directory) when set, loading it
// there the first time; a fresh one, dropped at the end, otherwise.
func benchFixture(b *testing.B, backend string) *Fixture {
	ctx := context.Background()
	f, err := OpenFixture(ctx, benchConfig(), FixtureOptions{
		Backend: backend, AdminDSN: os.Getenv("ANSHIM_TEST_PG"), Keep: os.Getenv("ANSHIM_SYNTH_KEEP"),
		Cases: envInt("ANSHIM_SYNTH_CASES", 100), Logf: b.Logf,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Close(context.WithoutCancel(ctx)); err != nil {
			b.Error(err)
		}
	})
	if !f.Reused {
		b.Logf("%s: LOAD %d check-ins (%d venues, %d people, %d tourists, %d days) in %s: %.0f check-ins/s",
			backend, f.Stats.CheckIns, f.Stats.Venues, f.Stats.People, f.Stats.Tourists, f.Config.Days,
			f.Stats.Elapsed.Round(time.Millisecond), float64(f.Stats.CheckIns)/f.Stats.Elapsed.Seconds())
	}
	return f
}

// BenchmarkProvince traces random residents of a synthetic province
// (ANSHIM_SYNTH_BENCH=1; scale from ANSHIM_SYNTH_VENUES, _PEOPLE, _DAYS,
// _PER_DAY, _SEED; kept between runs in ANSHIM_SYNTH_KEEP) with the
// production trace API's settings (trace.New with no venue cache), on
// bbolt and, with ANSHIM_TEST_PG, PostgreSQL (ANSHIM_SYNTH_BACKENDS
// chooses: "pg", "bolt" or "bolt:pg"). Each iteration traces one case
// (an onset 4 days before the end, isolation at the end); on PostgreSQL
// degrees 1 and 2 also run the SQL baseline (baseline_test.go) on the
// same case in the same iteration, in alternating order, outside the
// timer. Metrics: p50-ms, p99-ms, max-ms and contacts (a trace's mean),
// checkins-read and opened (a trace's mean: independent of the load);
// with the baseline sql-p50-ms, sql-p99-ms, sql-contacts, ratio-p50 and
// ratio-p99 (trace ÷ baseline) and sql-mismatch (cases whose contact
// counts by degree differ). Run with -benchtime 100x for 100 cases:
//
//	ANSHIM_SYNTH_BENCH=1 ANSHIM_TEST_PG=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	ANSHIM_SYNTH_BACKENDS=pg ANSHIM_SYNTH_KEEP=/var/tmp/anshim-synth \
//	ANSHIM_SYNTH_VENUES=50000 ANSHIM_SYNTH_PEOPLE=1000000 ANSHIM_SYNTH_DAYS=28 ANSHIM_SYNTH_PER_DAY=1300000 \
//	go test -run '^$' -bench Province -benchtime 100x -timeout 3h ./central/synth/
func BenchmarkProvince(b *testing.B) {
	if os.Getenv("ANSHIM_SYNTH_BENCH") == "" {
		b.Skip("set ANSHIM_SYNTH_BENCH=1 (and the ANSHIM_SYNTH_* scale) to run")
	}
	backends := []string{"bolt"}
	if os.Getenv("ANSHIM_TEST_PG") != "" {
		backends = append(backends, "pg")
	}
	if s := os.Getenv("ANSHIM_SYNTH_BACKENDS"); s != "" {
		backends = filepath.SplitList(s)
	}
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			f := benchFixture(b, backend)
			for _, deg := range []int{1, 2, 3} {
				b.Run(fmt.Sprintf("degree-%d", deg), func(b *testing.B) { benchTrace(b, f, deg) })
			}
		})
	}
}

// benchTrace traces b.N cases of degree deg.
func benchTrace(b *testing.B, f *Fixture, deg int) {
	ctx := context.Background()
	st, err := f.OpenStore(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	keys, err := f.DayKeys()
	if err != nil {
		b.Fatal(err)
	}
	var conn *pgx.Conn
	if f.Backend == "pg" && deg <= 2 {
		if conn, err = pgx.Connect(ctx, f.Store); err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
	}
	p := f.Province()
	end := f.End
	onset := daykeys.DayOf(end) - 4
	// As the trace API's: central/trace_api.go.
	tr := trace.New(st.(trace.Store), keys, &trace.Options{Now: func() time.Time { return end }})
	rng := rand.New(rand.NewPCG(9, uint64(deg)))
	var ds, sqls []time.Duration
	contacts, sqlContacts, mismatch := 0, 0, 0
	var read, opened int
	b.ResetTimer()
	for i := range b.N {
		who := rng.IntN(f.Config.People)
		req := trace.Request{Pseudonym: p.Pseudonym(who), Onset: onset.Start(), Isolation: end, Degree: deg}
		var res *trace.Result
		runTrace := func() {
			b.StartTimer()
			start := time.Now()
			res, err = tr.Trace(ctx, req)
			ds = append(ds, time.Since(start))
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
		}
		var got map[Person]int
		runSQL := func() {
			start := time.Now()
			got, err = sqlTrace(ctx, conn, p.PersonOf(who), (onset - 2).Start(), end, end, deg)
			sqls = append(sqls, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
		}
		if conn == nil {
			runTrace()
		} else if i%2 == 0 {
			runTrace()
			runSQL()
		} else {
			runSQL()
			runTrace()
		}
		contacts += len(res.Contacts)
		read += res.Stats.CheckIns
		opened += res.Stats.Opened
		if conn != nil {
			sqlContacts += len(got)
			var byDeg, sqlByDeg [3]int
			for _, c := range res.Contacts {
				byDeg[c.Degree]++
			}
			for _, d := range got {
				sqlByDeg[d]++
			}
			if byDeg != sqlByDeg {
				mismatch++
			}
		}
	}
	b.StopTimer()
	n := float64(b.N)
	p50, p99 := pct(ds)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(slices.Max(ds)), "max-ms")
	b.ReportMetric(float64(contacts)/n, "contacts")
	b.ReportMetric(float64(read)/n, "checkins-read")
	b.ReportMetric(float64(opened)/n, "opened")
	if conn != nil {
		s50, s99 := pct(sqls)
		b.ReportMetric(ms(s50), "sql-p50-ms")
		b.ReportMetric(ms(s99), "sql-p99-ms")
		b.ReportMetric(float64(sqlContacts)/n, "sql-contacts")
		b.ReportMetric(float64(p50)/float64(s50), "ratio-p50")
		b.ReportMetric(float64(p99)/float64(s99), "ratio-p99")
		b.ReportMetric(float64(mismatch), "sql-mismatch")
	}
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct returns the 50th and 99th percentiles of ds (sorted in place).
func pct(ds []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(ds)
	return ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)]
}

// TestDropKept removes the provinces kept in ANSHIM_SYNTH_KEEP (their
// databases on ANSHIM_TEST_PG too) when ANSHIM_SYNTH_DROP=1:
//
//	ANSHIM_SYNTH_DROP=1 ANSHIM_SYNTH_KEEP=/var/tmp/anshim-synth ANSHIM_TEST_PG=... \
//	go test -run DropKept -v ./central/synth/
func TestDropKept(t *testing.T) {
	keep := os.Getenv("ANSHIM_SYNTH_KEEP")
	if os.Getenv("ANSHIM_SYNTH_DROP") == "" || keep == "" {
		t.Skip("set ANSHIM_SYNTH_DROP=1 and ANSHIM_SYNTH_KEEP to drop the kept provinces")
	}
	n, err := DropFixtures(context.Background(), keep, os.Getenv("ANSHIM_TEST_PG"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dropped %d kept provinces in %s", n, keep)
}
