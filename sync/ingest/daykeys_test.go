package ingest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// Ensure that with day keys the store keeps each personal part sealed under
// its day's key (not the province's), tagged per day; and that a record of
// a day whose key is destroyed is not stored, counted expired and
// quarantined as day-destroyed (hashes only) with an ERROR line.
func TestHandle_DayKeys(t *testing.T) {
	var keys *daykeys.Keys
	var seen [][16]byte
	f := newFixture(t, nil, func(c *Config) {
		c.Seen = func(p [][16]byte) { seen = append(seen, p...) }
		var err error
		keys, err = daykeys.Open(filepath.Join(t.TempDir(), "daykeys"), make([]byte, 32), daykeys.DayOf(truth)-30)
		if err != nil {
			t.Fatal(err)
		}
		c.DayKeys = keys
	})
	k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1"))
	k.add(checkin.Record{Wall: truth.Add(-3 * 24 * time.Hour)}) // three days earlier
	k.addN(2)
	if err := keys.DestroyThrough(daykeys.DayOf(truth) - 1); err != nil {
		t.Fatal(err)
	}
	s, d := k.msg(1, 3)
	res, err := f.in.Handle(context.Background(), s, d, truth.Add(time.Hour))
	if err != nil || res.Stored != 2 || res.Expired != 1 || res.Duplicates != 0 {
		t.Fatalf("Handle = %+v, %v; want 2 stored, 1 expired", res, err)
	}
	if len(seen) != 2 || seen[0] != k.pseudonyms[1] || seen[1] != k.pseudonyms[2] {
		t.Fatalf("Seen got %d pseudonyms, want the 2 stored", len(seen))
	}
	if f.metrics.Expired.Load() != 1 || f.metrics.Quarantined(ReasonDayDestroyed) != 1 {
		t.Fatal("expired record not counted")
	}
	// Not silent: a day-destroyed entry keeps the batch's hash, never its
	// payload, and an ERROR line says so.
	qs, err := f.store.Quarantined(context.Background(), "k-1")
	if err != nil || len(qs) != 1 || qs[0].Reason != ReasonDayDestroyed || len(qs[0].Payload) != 0 || res.ExpiredID != qs[0].ID ||
		!strings.Contains(qs[0].Detail, "records 1 of days "+daykeys.DayOf(truth.Add(-3*24*time.Hour)).String()) {
		t.Fatalf("quarantine %+v, %v; want one day-destroyed entry naming record 1", qs, err)
	}
	if !strings.Contains(f.logs.String(), "level=ERROR msg=\"ingest: records of a destroyed or dropped day refused") {
		t.Fatalf("no ERROR line:\n%s", f.logs)
	}
	var got []store.CheckIn
	f.store.CheckIns(context.Background(), "k-1", 0, func(c store.CheckIn) bool { got = append(got, c); return true })
	if len(got) != 2 || got[0].Seq != 2 {
		t.Fatalf("stored %d check-ins", len(got))
	}
	for _, c := range got {
		if _, err := checkin.Open(c.Sealed, f.keys.SealingPublicKey(), f.keys.SealingPrivateKey()); err == nil {
			t.Fatal("stored part still opens with the province's key")
		}
		day := daykeys.DayOf(c.Time)
		plain, err := keys.Open(day, c.Sealed, daykeys.AD(c.Device, c.Seq))
		if err != nil {
			t.Fatal(err)
		}
		p, err := checkin.ParsePersonal(plain)
		if err != nil || p.Pseudonym != k.pseudonyms[c.Seq-1] || p.Serial != uint32(c.Seq) {
			t.Fatalf("day-sealed part %+v, %v", p, err)
		}
		if bytes.Contains(c.Sealed, p.Pseudonym[:]) {
			t.Fatal("pseudonym in clear")
		}
		if tag, _ := keys.Tag(day, p.Pseudonym); tag != c.Tag {
			t.Fatal("tag does not match the day's key")
		}
	}
}
