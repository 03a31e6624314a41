package synth

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store/pgstore/pgtest"
)

// TestFixture_KeepReuseDrop loads a kept province on PostgreSQL, opens it
// again (reused: the same database, day keys, end and cases, the case's
// vault pseudonym in the province), and drops it: database and directory
// gone.
func TestFixture_KeepReuseDrop(t *testing.T) {
	if testing.Short() {
		t.Skip("slow (loads provinces on PostgreSQL): run without -short")
	}
	admin := pgtest.DSN(t)
	ctx := context.Background()
	keep := t.TempDir()
	cfg := Config{Venues: 20, People: 300, Days: 2, PerDay: 800, Seed: 5}
	opts := FixtureOptions{Backend: "pg", AdminDSN: admin, Keep: keep, Cases: 2}
	f, err := OpenFixture(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { DropFixtures(context.WithoutCancel(ctx), keep, admin) })
	if f.Reused || f.Stats.CheckIns == 0 || len(f.Cases) == 0 {
		t.Fatalf("first open: reused %v, %d check-ins, %d cases", f.Reused, f.Stats.CheckIns, len(f.Cases))
	}
	g, err := OpenFixture(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Reused || g.Store != f.Store || !g.End.Equal(f.End) || g.Stats.CheckIns != f.Stats.CheckIns || g.Config.First != f.Config.First {
		t.Fatalf("second open: reused %v, store %q (first %q), end %v (%v), %d check-ins (%d)",
			g.Reused, g.Store, f.Store, g.End, f.End, g.Stats.CheckIns, f.Stats.CheckIns)
	}
	c := f.Cases[0]
	if g.Province().Pseudonym(c.Resident) != f.Province().Pseudonym(c.Resident) {
		t.Error("the case's vault pseudonym differs in the reused province")
	}
	if g.Province().Pseudonym(c.Resident+1) != f.Province().Pseudonym(c.Resident+1) && c.Resident+1 < cfg.People {
		t.Error("a resident's pseudonym differs in the reused province")
	}
	// Another scale is another province.
	other := cfg
	other.PerDay = 900
	h, err := OpenFixture(ctx, other, opts)
	if err != nil {
		t.Fatal(err)
	}
	if h.Reused || h.Store == f.Store {
		t.Errorf("another scale reused %q", h.Store)
	}
	n, err := DropFixtures(ctx, keep, admin)
	if err != nil || n != 2 {
		t.Fatalf("DropFixtures = %d, %v; want 2", n, err)
	}
	if conn, err := pgx.Connect(ctx, f.Store); err == nil {
		conn.Close(ctx)
		t.Error("the kept database is still there")
	}
	if ents, _ := os.ReadDir(keep); len(ents) != 0 {
		t.Errorf("%d entries left in the keep directory", len(ents))
	}
}
