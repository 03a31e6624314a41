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
// are ingested; a copy of the store is taken (the bbolt file; a pg_dump);
// day D is dropped and its key destroyed. Afterwards the copy reveals no
// pseudonym of D — not in clear, not by opening its sealed parts, not by
// recomputing its tags — and no byte of D's destroyed keys appears in the
// store's files, the copy, the dump or the key file.
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
	material, err := keys.KeyMaterial(day)
	if err != nil {
		t.Fatal(err)
	}
	var before []store.CheckIn
	st.CheckIns(ctx, "k-1", 0, func(c store.CheckIn) bool { before = append(before, c); return true })
	copyBefore := snapshot()
	for _, p := range k.pseudonyms {
		if bytes.Contains(copyBefore, p[:]) {
			t.Fatal("a pseudonym is in the store in clear")
		}
	}

	n, err := st.DropDay(ctx, day.Start().Add(time.Hour))
	if err != nil || n != 5 {
		t.Fatalf("DropDay = %d, %v", n, err)
	}
	if err := keys.DestroyThrough(day); err != nil {
		t.Fatal(err)
	}

	// What the copy holds of day D can no longer be read or linked.
	for _, c := range before[:5] {
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
