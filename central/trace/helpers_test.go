package trace

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/checkin"
)

// backends are the stores the tests run on: bbolt always, PostgreSQL when
// ANSHIM_TEST_PG names a server.
func backends() []string {
	if os.Getenv("ANSHIM_TEST_PG") != "" {
		return []string{"bolt", "pg"}
	}
	return []string{"bolt"}
}

// openStore opens an empty store of the backend for tb.
func openStore(tb testing.TB, backend string) store.Store {
	tb.Helper()
	var st store.Store
	var err error
	switch backend {
	case "bolt":
		st, err = boltstore.Open(filepath.Join(tb.TempDir(), "central.db"), &boltstore.Options{NoSync: true})
	case "pg":
		st, err = pgstore.Open(context.Background(), pgtest.NewDatabase(tb), nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// world builds a scenario: venues with one kiosk each, and people whose
// check-ins are sealed and tagged with day keys as ingest does.
type world struct {
	tb   testing.TB
	st   store.Store
	keys *daykeys.Keys
	seq  map[string]uint64
}

// at is a KST wall-clock time in November 2026.
func at(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, daykeys.KST) }

func newWorld(tb testing.TB, st store.Store) *world {
	tb.Helper()
	kek := sha256.Sum256([]byte("trace test kek"))
	keys, err := daykeys.Open(filepath.Join(tb.TempDir(), "daykeys"), kek[:], daykeys.DayOf(at(1, 12, 0)))
	if err != nil {
		tb.Fatal(err)
	}
	return &world{tb: tb, st: st, keys: keys, seq: map[string]uint64{}}
}

// venue registers a venue of the category (stay 0: the category's default
// stay) with a kiosk "k-" + id.
func (w *world) venue(id string, c registry.Category, stay int) {
	w.tb.Helper()
	ctx := context.Background()
	if stay == 0 {
		stay = c.DefaultStay()
	}
	if err := w.st.AddVenue(ctx, store.Venue{ID: id, Name: id, Category: c, DefaultStay: stay, Created: at(1, 0, 0)}); err != nil {
		w.tb.Fatal(err)
	}
	if err := w.st.AddDevice(ctx, store.Device{ID: "k-" + id, Venue: id, NKey: "U" + id, Enrolled: at(1, 0, 0)}); err != nil {
		w.tb.Fatal(err)
	}
}

// pseudonymOf is a person's pseudonym in the tests.
func pseudonymOf(name string) [16]byte {
	h := sha256.Sum256([]byte("person " + name))
	return [16]byte(h[:16])
}

// scan stores one check-in of the person at the venue's kiosk.
func (w *world) scan(name, venue string, kind checkin.Kind, t time.Time, flags uint32) {
	w.tb.Helper()
	dev := "k-" + venue
	w.seq[dev]++
	seq := w.seq[dev]
	p := checkin.Personal{Pseudonym: pseudonymOf(name), PassKind: 1}
	day := daykeys.DayOf(t)
	sealed, err := w.keys.Seal(day, p.AppendBinary(nil), daykeys.AD(dev, seq))
	if err != nil {
		w.tb.Fatal(err)
	}
	tag, err := w.keys.Tag(day, p.Pseudonym)
	if err != nil {
		w.tb.Fatal(err)
	}
	r := store.CheckIn{Device: dev, Seq: seq, Venue: venue, Kind: kind, RawWall: t, Quality: 1, Time: t,
		Sealed: sealed, Tag: tag, Flags: flags, Received: t}
	if n, err := w.st.Ingest(context.Background(), store.Batch{Device: dev, Records: []store.CheckIn{r}, LastSeq: seq}); err != nil || n != 1 {
		w.tb.Fatalf("ingest %s/%d: %d, %v", dev, seq, n, err)
	}
}

// in and out scan an entry and an exit, unflagged.
func (w *world) in(name, venue string, t time.Time)  { w.scan(name, venue, checkin.Entry, t, 0) }
func (w *world) out(name, venue string, t time.Time) { w.scan(name, venue, checkin.Exit, t, 0) }

// tracer returns a tracer over the world with the clock at now.
func (w *world) tracer(now time.Time) *Tracer {
	return New(w.st, w.keys, &Options{Now: func() time.Time { return now }})
}
