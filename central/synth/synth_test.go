package synth

import (
	"context"
	"crypto/sha256"
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

func TestBusinessNumber(t *testing.T) {
	for _, n := range []int{1, 2, 9, 10, 4711, 999_999} {
		bn := BusinessNumber(n)
		if got, err := registry.ParseBusinessNumber(bn); err != nil || got != bn {
			t.Errorf("BusinessNumber(%d) = %s: %v", n, bn, err)
		}
	}
}

// TestSmall loads 200 venues, 2,000 people and 3 days and checks the
// counts, that every check-in opens with the day keys and that its tag is
// its pseudonym's.
func TestSmall(t *testing.T) {
	for _, backend := range []string{"bolt", "pg"} {
		t.Run(backend, func(t *testing.T) {
			var st store.Store
			var err error
			switch backend {
			case "bolt":
				st, err = boltstore.Open(filepath.Join(t.TempDir(), "central.db"), &boltstore.Options{NoSync: true})
			case "pg":
				st, err = pgstore.Open(context.Background(), pgtest.NewDatabase(t), nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			testSmall(t, st)
		})
	}
}

func testSmall(t *testing.T, st store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, daykeys.KST)
	cfg := Config{Venues: 200, People: 2000, Days: 3, PerDay: 2600, Seed: 7, Chunk: 1000, Now: func() time.Time { return now }}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kek := sha256.Sum256([]byte("synth test kek"))
	keys, err := daykeys.Open(filepath.Join(t.TempDir(), "daykeys"), kek[:], p.First())
	if err != nil {
		t.Fatal(err)
	}
	var progress int
	p.cfg.Progress = func(Progress) { progress++ }
	stats, err := p.Load(ctx, st, keys)
	if err != nil {
		t.Fatal(err)
	}
	if stats.CheckIns != 3*2600 || stats.Entries+stats.Exits != stats.CheckIns || progress == 0 {
		t.Fatalf("stats %+v, %d progress calls", stats, progress)
	}
	if share := float64(stats.Exits) / float64(stats.Entries); share < 0.15 || share > 0.25 {
		t.Errorf("exits/entries %.2f, want about 0.2", share)
	}
	if stats.Tourists == 0 {
		t.Error("no tourists")
	}
	venues, err := st.Venues(ctx)
	if err != nil || len(venues) != 200 {
		t.Fatalf("%d venues, %v", len(venues), err)
	}
	known := map[[16]byte]bool{}
	for i := range 2000 {
		known[p.Pseudonym(i)] = true
	}
	var total int64
	perDay := map[daykeys.Day]int64{}
	residents := 0
	for _, v := range venues {
		if v.Status != registry.StatusApproved || !registry.Jeju.Contains(v.Location) || v.DefaultStay != v.Category.DefaultStay() {
			t.Fatalf("venue %+v", v)
		}
		if _, err := registry.ParseBusinessNumber(v.BusinessNumber); err != nil {
			t.Fatalf("venue %s: %v", v.ID, err)
		}
		dev := "k-" + v.ID
		stt, err := st.State(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		prev, head := uint64(0), checkin.Genesis(dev)
		err = st.CheckIns(ctx, dev, 1, func(c store.CheckIn) bool {
			n++
			if c.Seq != prev+1 || c.Venue != v.ID {
				t.Fatalf("%s/%d after %d at %s", dev, c.Seq, prev, c.Venue)
			}
			prev = c.Seq
			d := daykeys.DayOf(c.Time)
			perDay[d]++
			plain, err := keys.Open(d, c.Sealed, daykeys.AD(c.Device, c.Seq))
			if err != nil {
				t.Fatalf("%s/%d does not open: %v", dev, c.Seq, err)
			}
			pers, err := checkin.ParsePersonal(plain)
			if err != nil {
				t.Fatal(err)
			}
			tag, _ := keys.Tag(d, pers.Pseudonym)
			if tag != c.Tag {
				t.Fatalf("%s/%d: tag mismatch", dev, c.Seq)
			}
			if known[pers.Pseudonym] {
				residents++
			}
			h := c.Time.In(daykeys.KST).Hour()
			if h < 5 {
				t.Errorf("%s/%d at %s: before opening", dev, c.Seq, c.Time.In(daykeys.KST))
			}
			rec := checkin.Record{Device: c.Device, Seq: c.Seq, Venue: c.Venue, Wall: c.RawWall, Quality: c.Quality,
				Boot: c.Boot, Mono: c.Mono, Kind: c.Kind, Sealed: c.Sealed}
			canon, _ := rec.AppendBinary(nil)
			head = checkin.Next(head, canon)
			if head != c.Hash {
				t.Fatalf("%s/%d: chain hash", dev, c.Seq)
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if stt.LastSeq != n || stt.Records != n || (n > 0 && stt.LastHash != head) {
			t.Fatalf("%s: state %+v, %d records", dev, stt, n)
		}
		total += int64(n)
	}
	if total != stats.CheckIns {
		t.Fatalf("%d check-ins stored, want %d", total, stats.CheckIns)
	}
	for i := range 3 {
		if got := perDay[p.First()+daykeys.Day(i)]; got != 2600 {
			t.Errorf("day %d: %d check-ins", i, got)
		}
	}
	if residents == 0 || int64(residents) == total {
		t.Errorf("%d of %d check-ins by residents", residents, total)
	}
	// Found by the tracing look-ups too.
	tag, _ := keys.Tag(p.First(), p.Pseudonym(0))
	if _, err := st.CheckInsByTag(ctx, p.First().Start(), tag); err != nil {
		t.Fatal(err)
	}
}
