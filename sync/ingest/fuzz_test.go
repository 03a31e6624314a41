package ingest

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/sync/wire"
)

// FuzzHandle checks that Handle, with a healthy store, never fails and
// never panics on any payload: a message is stored, skipped or
// quarantined, and only a batch that decodes and verifies stores records.
func FuzzHandle(f *testing.F) {
	keys := newKeys(f, "jeju")
	// Without fsync: fuzzing wants speed, and a crash loses nothing here.
	st, err := boltstore.Open(filepath.Join(f.TempDir(), "fuzz.db"), &boltstore.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	in, err := New(Config{Store: st, SealPub: keys.SealingPublicKey(), SealPriv: keys.SealingPrivateKey(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	pub := deviceKey("k-1").Public().(ed25519.PublicKey)
	ctx := context.Background()
	if err := st.AddVenue(ctx, store.Venue{ID: "v-1"}); err != nil {
		f.Fatal(err)
	}
	if err := st.AddDevice(ctx, store.Device{ID: "k-1", Venue: "v-1", PublicKey: pub}); err != nil {
		f.Fatal(err)
	}
	k := newKiosk(f, keys, "k-1", "v-1", deviceKey("k-1")).addN(6)
	for _, r := range [][2]uint64{{1, 3}, {4, 6}, {2, 5}, {6, 6}} {
		_, data := k.msg(r[0], r[1])
		f.Add(data)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := in.Handle(ctx, wire.CheckInSubject("v-1", "k-1"), data, truth)
		if err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if res.Quarantined != "" {
			if res.Stored != 0 || res.QuarantineID == 0 {
				t.Fatalf("quarantined batch: %+v", res)
			}
			return
		}
		b, _, err := wire.Decode(data)
		if err != nil {
			t.Fatalf("stored a batch that does not decode: %+v", res)
		}
		if err := b.Verify(pub); err != nil {
			t.Fatalf("stored a batch that does not verify: %v", err)
		}
		if uint64(res.Stored+res.Duplicates) != b.Head.Seq-b.FirstSeq()+1 {
			t.Fatalf("batch %s: stored %d + duplicates %d", b.MsgID(), res.Stored, res.Duplicates)
		}
	})
}
