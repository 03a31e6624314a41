package synth

import (
	"context"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/central/trace"
)

// TestSQLBaseline_MatchesEngine checks on PostgreSQL that the SQL
// baseline of BenchmarkProvince finds the same contacts, with the same
// degrees, as the trace engine at degrees 1 and 2, for residents of a
// small province whose people meet often (exits scanned by a fifth, stays
// across midnight included).
func TestSQLBaseline_MatchesEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("slow (loads provinces on PostgreSQL): run without -short")
	}
	admin := pgtest.DSN(t)
	ctx := context.Background()
	f, err := OpenFixture(ctx, Config{Venues: 60, People: 1500, Days: 5, PerDay: 6000, Seed: 3},
		FixtureOptions{Backend: "pg", AdminDSN: admin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(context.WithoutCancel(ctx)) })
	st, err := f.OpenStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := f.DayKeys()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, f.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	p := f.Province()
	people := map[[16]byte]Person{} // pseudonym → person, of everyone who scanned
	if err := p.EachTag(keys, func(_ daykeys.Day, _ [16]byte, who Person) error {
		people[p.pseudonymOf(who)] = who
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	end := f.End
	tr := trace.New(st.(trace.Store), keys, &trace.Options{Now: func() time.Time { return end }})
	rng := rand.New(rand.NewPCG(1, 2))
	nonEmpty := [3]int{}
	for range 12 {
		who := rng.IntN(f.Config.People)
		onset := daykeys.DayOf(end) - daykeys.Day(1+rng.IntN(3))
		for _, deg := range []int{1, 2} {
			res, err := tr.Trace(ctx, trace.Request{Pseudonym: p.Pseudonym(who), Onset: onset.Start(), Isolation: end, Degree: deg})
			if err != nil {
				t.Fatal(err)
			}
			want := map[Person]int{}
			for _, c := range res.Contacts {
				q, ok := people[c.Pseudonym]
				if !ok {
					t.Fatalf("resident %d degree %d: contact %s is no one of the province", who, deg, c.Ref)
				}
				want[q] = c.Degree
			}
			got, err := sqlTrace(ctx, conn, p.PersonOf(who), (onset - 2).Start(), end, end, deg)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				missing, extra := 0, 0
				for q, d := range want {
					if got[q] != d {
						missing++
					}
				}
				for q, d := range got {
					if want[q] != d {
						extra++
					}
				}
				t.Errorf("resident %d onset %s degree %d: the engine finds %d contacts, SQL %d (%d of the engine's not so in SQL, %d of SQL's not so in the engine)",
					who, onset, deg, len(want), len(got), missing, extra)
			}
			if len(want) > 0 {
				nonEmpty[deg]++
			}
		}
	}
	if nonEmpty[1] < 6 || nonEmpty[2] < 6 {
		t.Errorf("only %d degree-1 and %d degree-2 traces found contacts: the province is too sparse to compare", nonEmpty[1], nonEmpty[2])
	}
}
