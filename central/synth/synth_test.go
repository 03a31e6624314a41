package synth

import (
	"context"
	"crypto/ed25519"
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
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/pass"
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
	// Two whole days and today until noon: about a third of its scans
	// (most venues open late morning to night).
	if stats.CheckIns < 2*2600+300 || stats.CheckIns > 2*2600+1800 || stats.Entries+stats.Exits != stats.CheckIns || progress == 0 {
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
		if v.Status != registry.StatusApproved || !registry.Jeju.Contains(v.Location) || registry.CheckLocation(v.Location) != nil ||
			v.DefaultStay != v.Category.DefaultStay() {
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
			if c.Time.After(now) || c.Received.After(now) || c.RawWall.After(now) {
				t.Errorf("%s/%d at %s, received %s: after now", dev, c.Seq, c.Time.In(daykeys.KST), c.Received.In(daykeys.KST))
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
		want := int64(2600)
		if i == 2 {
			want = stats.PerDay[2]
		}
		if got := perDay[p.First()+daykeys.Day(i)]; got != want || got != stats.PerDay[i] {
			t.Errorf("day %d: %d check-ins, want %d", i, got, want)
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

// Ensure that no scan is later than the clock: today's stop at now (one
// at 23:52 KST when it is 09:25 was the bug), a day after today has none,
// and a day before today is whole.
func TestDayEvents_StopAtNow(t *testing.T) {
	first := daykeys.DayOf(time.Date(2026, 11, 18, 12, 0, 0, 0, daykeys.KST))
	for _, tt := range []struct {
		name  string
		now   time.Time
		today int // day index of now
	}{
		{"09:25", time.Date(2026, 11, 20, 9, 25, 0, 0, daykeys.KST), 2},
		{"00:00:02", time.Date(2026, 11, 20, 0, 0, 2, 0, daykeys.KST), 2},
		{"23:59:59", time.Date(2026, 11, 20, 23, 59, 59, 0, daykeys.KST), 2},
		{"yesterday 15:00", time.Date(2026, 11, 19, 15, 0, 0, 0, daykeys.KST), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(Config{Venues: 100, People: 1000, Days: 3, PerDay: 3000, Seed: 5, First: first,
				Now: func() time.Time { return tt.now }})
			if err != nil {
				t.Fatal(err)
			}
			for di := range 3 {
				evs := p.dayEvents(di)
				d0 := (first + daykeys.Day(di)).Start()
				var latest time.Time
				for _, e := range evs {
					latest = later(latest, d0.Add(time.Duration(e.sec+3)*time.Second))
				}
				switch {
				case di < tt.today && len(evs) != 3000:
					t.Errorf("day %d before today: %d scans, want 3000", di, len(evs))
				case di > tt.today && len(evs) != 0:
					t.Errorf("day %d after today: %d scans", di, len(evs))
				case len(evs) > 0 && latest.After(tt.now):
					t.Errorf("day %d: a scan received at %s, after now", di, latest.In(daykeys.KST))
				case di == tt.today && tt.now.Hour() == 23 && len(evs) < 2900:
					t.Errorf("today at 23:59: %d scans, want nearly 3000", len(evs))
				case di == tt.today && tt.now.Hour() == 0 && len(evs) != 0:
					t.Errorf("today at 00:00:02: %d scans, want none", len(evs))
				case di == tt.today && tt.now.Hour() == 9 && (len(evs) == 0 || len(evs) > 600):
					t.Errorf("today at 09:25: %d scans, want a few (most venues open later)", len(evs))
				}
			}
		})
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Ensure that the cases PickCases offers are registered in the identity
// vault under their phone numbers, and that the check-ins found by the
// pseudonym the vault gives for the number are the case's entries in the
// trace window of its onset, none after now.
func TestCases(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 9, 25, 0, 0, daykeys.KST)
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "central.db"), &boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := New(Config{Venues: 100, People: 1000, Days: 5, PerDay: 3000, Seed: 11, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	kek := sha256.Sum256([]byte("synth test kek"))
	seed := sha256.Sum256([]byte("synth test signer"))
	v, err := vault.New(st, &kek, pass.Signer{Private: ed25519.NewKeyFromSeed(seed[:])}, &vault.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := daykeys.Open(filepath.Join(t.TempDir(), "daykeys"), kek[:], p.First())
	if err != nil {
		t.Fatal(err)
	}
	cases := p.PickCases(3)
	if len(cases) != 3 {
		t.Fatalf("%d cases", len(cases))
	}
	if err := p.RegisterCases(ctx, v, cases); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Load(ctx, st, keys); err != nil {
		t.Fatal(err)
	}
	today := daykeys.DayOf(now)
	for i, c := range cases {
		// The window is 4 days (onset − 2 to today): at most 3 a day.
		if c.Onset != today-1 || c.Entries < 3 || c.Entries > 12 || c.Venues < 2 || (i > 0 && c.Entries > cases[i-1].Entries) {
			t.Errorf("case %+v", c)
		}
		if _, err := vault.NormalizePhone(c.Phone); err != nil {
			t.Errorf("case phone %s: %v", c.Phone, err)
		}
		per, err := v.Lookup(ctx, c.Phone)
		if err != nil || per.ID != c.PersonID {
			t.Fatalf("%s: %+v, %v", c.Phone, per, err)
		}
		entries, venues := 0, map[string]bool{}
		for d := c.Onset - 2; d <= today; d++ {
			tag, err := keys.Tag(d, per.Pseudonym)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := st.CheckInsByTag(ctx, d.Start(), tag)
			if err != nil {
				t.Fatal(err)
			}
			for _, ci := range cs {
				if ci.Time.After(now) {
					t.Errorf("%s: a check-in at %s, after now", c.Phone, ci.Time.In(daykeys.KST))
				}
				if ci.Kind == checkin.Entry {
					entries++
					venues[ci.Venue] = true
				}
			}
		}
		if entries != c.Entries || len(venues) != c.Venues {
			t.Errorf("%s: %d entries at %d venues stored in the window, case says %d at %d", c.Phone, entries, len(venues), c.Entries, c.Venues)
		}
	}
	// Registering again (a second run on the store) finds the same people.
	again := p.PickCases(3)
	if err := p.RegisterCases(ctx, v, again); err != nil || again[0].PersonID != cases[0].PersonID {
		t.Errorf("again: %v, %+v", err, again[0])
	}
}
