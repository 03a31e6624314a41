package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/checkin"
)

// Ensure crypto-shredding end to end on both backends: check-ins of day D
// are ingested, and two quarantine entries of D made (a forged batch, and
// the break entry of a batch after a gap); a copy of the store is taken
// (the bbolt file; a pg_dump); day D is dropped, its quarantine too, and
// its key destroyed. Afterwards the copy reveals no pseudonym of D — not in
// clear, not by opening its sealed parts or its quarantined payloads (no
// record sealed to the province's key is in it), not by recomputing its
// tags — and no byte of D's destroyed keys appears in the store's files,
// the copy, the dump or the key file.
func TestShredding(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "central.db")
		st, err := boltstore.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testShredding(t, st, func() []byte {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		st, err := pgstore.Open(context.Background(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testShredding(t, st, func() []byte {
			out, err := exec.Command("pg_dump", "--no-owner", "--dbname="+dsn).Output()
			if err != nil {
				t.Fatalf("pg_dump: %v", err)
			}
			return out
		})
	})
}

func testShredding(t *testing.T, st store.Store, snapshot func() []byte) {
	ctx := context.Background()
	keyFile := filepath.Join(t.TempDir(), "daykeys")
	kek := bytes.Repeat([]byte{0x42}, 32)
	day := daykeys.DayOf(truth)
	keys, err := daykeys.Open(keyFile, kek, day-10)
	if err != nil {
		t.Fatal(err)
	}
	pk := newKeys(t, "jeju")
	in, err := New(Config{Store: st, SealPub: pk.SealingPublicKey(), SealPriv: pk.SealingPrivateKey(), DayKeys: keys,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return truth }, Metrics: new(Metrics)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddVenue(ctx, store.Venue{ID: "v-1", Name: "v-1", Created: truth}); err != nil {
		t.Fatal(err)
	}
	key := deviceKey("k-1")
	if err := st.AddDevice(ctx, store.Device{ID: "k-1", Venue: "v-1", PublicKey: key.Public().(ed25519.PublicKey), Enrolled: truth}); err != nil {
		t.Fatal(err)
	}
	k := newKiosk(t, pk, "k-1", "v-1", key)
	k.addN(5)                                              // day D
	k.add(checkin.Record{Wall: truth.Add(24 * time.Hour)}) // day D+1: must survive
	s, d := k.msg(1, 6)
	if res, err := in.Handle(ctx, s, d, truth.Add(25*time.Hour)); err != nil || res.Stored != 6 {
		t.Fatalf("Handle = %+v, %v", res, err)
	}
	// Quarantine of day D: a batch of D whose head k-1 did not sign, and a
	// batch of D after a gap (ingested, its break entry kept with it).
	forged := newKiosk(t, pk, "k-1", "v-1", deviceKey("not k-1")).addN(3)
	fs, fd := forged.msg(1, 3)
	if res, err := in.Handle(ctx, fs, fd, truth.Add(time.Hour)); err != nil || res.Quarantined != ReasonBadSignature {
		t.Fatalf("Handle of a forged batch = %+v, %v", res, err)
	}
	k.addN(2) // 7 and 8, of day D; 7 never arrives
	gs, gd := k.msg(8, 8)
	if res, err := in.Handle(ctx, gs, gd, truth.Add(25*time.Hour)); err != nil || res.Break != ReasonSequenceGap || res.Stored != 1 {
		t.Fatalf("Handle after a gap = %+v, %v", res, err)
	}
	quarBefore, err := st.Quarantined(ctx, "")
	if err != nil || len(quarBefore) != 2 {
		t.Fatalf("Quarantined = %d entries, %v; want 2", len(quarBefore), err)
	}
	for _, q := range quarBefore {
		if daykeys.DayOf(q.Day) != day {
			t.Fatalf("entry %d (%s) of day %s, want %s", q.ID, q.Reason, daykeys.DayOf(q.Day), day)
		}
		if _, err := OpenQuarantine(keys, q); err != nil {
			t.Fatalf("entry %d does not open before the day is destroyed: %v", q.ID, err)
		}
	}
	// What the province's key opens: the records' sealed parts as the
	// kiosks sent them.
	var provinceSealed [][]byte
	for _, raw := range append(append([][]byte(nil), k.recs...), forged.recs...) {
		var r checkin.Record
		if err := r.UnmarshalBinary(raw); err != nil {
			t.Fatal(err)
		}
		provinceSealed = append(provinceSealed, r.Sealed)
	}
	material, err := keys.KeyMaterial(day)
	if err != nil {
		t.Fatal(err)
	}
	var before []store.CheckIn
	st.CheckIns(ctx, "k-1", 0, func(c store.CheckIn) bool { before = append(before, c); return true })
	copyBefore := snapshot()
	for _, p := range append(append([][16]byte(nil), k.pseudonyms...), forged.pseudonyms...) {
		if bytes.Contains(copyBefore, p[:]) {
			t.Fatal("a pseudonym is in the store in clear")
		}
	}
	for _, sealed := range provinceSealed {
		if bytes.Contains(copyBefore, sealed) {
			t.Fatal("a record sealed to the province's key is in the store: the province's key would open it after the day is destroyed")
		}
	}

	n, err := st.DropDay(ctx, day.Start().Add(time.Hour))
	if err != nil || n != 6 {
		t.Fatalf("DropDay = %d, %v; want 6", n, err)
	}
	if n, err := st.DropQuarantine(ctx, day.Start().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("DropQuarantine = %d, %v; want 2", n, err)
	}
	if err := keys.DestroyThrough(day); err != nil {
		t.Fatal(err)
	}

	// What the copy holds of day D can no longer be read or linked.
	for _, c := range before {
		if daykeys.DayOf(c.Time) != day {
			continue
		}
		if _, err := keys.Open(day, c.Sealed, daykeys.AD(c.Device, c.Seq)); !errors.Is(err, daykeys.ErrDestroyed) {
			t.Fatalf("record %d of the destroyed day opens: %v", c.Seq, err)
		}
		if _, err := checkin.Open(c.Sealed, pk.SealingPublicKey(), pk.SealingPrivateKey()); err == nil {
			t.Fatal("the province's key opens a stored part")
		}
	}
	if _, err := keys.Tag(day, k.pseudonyms[0]); !errors.Is(err, daykeys.ErrDestroyed) {
		t.Fatal("tags of the destroyed day can still be computed")
	}
	// The copy's quarantine of day D opens no more, and the store keeps
	// none of it.
	for _, q := range quarBefore {
		if _, err := OpenQuarantine(keys, q); !errors.Is(err, daykeys.ErrDestroyed) {
			t.Fatalf("quarantine entry %d (%s) of the destroyed day opens: %v", q.ID, q.Reason, err)
		}
	}
	if qs, err := st.Quarantined(ctx, ""); err != nil || len(qs) != 0 {
		t.Fatalf("quarantine after the day was dropped: %d entries, %v", len(qs), err)
	}
	// The next day is intact.
	last := before[5]
	plain, err := keys.Open(daykeys.DayOf(last.Time), last.Sealed, daykeys.AD(last.Device, last.Seq))
	if p, _ := checkin.ParsePersonal(plain); err != nil || p.Pseudonym != k.pseudonyms[5] {
		t.Fatalf("the next day's record: %v", err)
	}
	keyFileBytes, _ := os.ReadFile(keyFile)
	for name, b := range map[string][]byte{"copy": copyBefore, "store now": snapshot(), "key file": keyFileBytes} {
		for _, m := range material {
			if bytes.Contains(b, m) || bytes.Contains(b, m[:16]) {
				t.Fatalf("destroyed key bytes found in the %s", name)
			}
		}
	}
	if kf, _ := daykeys.Open(keyFile, kek, 0); kf.Oldest() != day+1 {
		t.Fatal("the key file still holds the destroyed day")
	}
}
