package storebench

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store/pgstore"
)

// Ensure that the fleet's records are what the central stores (sealed
// parts of daykeys.Seal's size) and that the raw bbolt baseline writes the
// very keys and values boltstore writes.
func TestRawBoltSameBytes(t *testing.T) {
	if sl, err := sealedLen(); err != nil || sl != 62 {
		t.Fatalf("sealed part of %d bytes (%v), want 62: the fleet's records would not be the real size", sl, err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "central.db")
	s := openBolt(t, path, false)
	f := newFleet(t, 3, 9)
	f.enroll(t, s)
	bt := f.batch(1, 5, benchDay)
	if err := mustIngest(context.Background(), s, bt); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		for _, r := range bt.Records {
			got := tx.Bucket([]byte("checkins")).Get(boltKey(r.Device, r.Seq))
			if want := boltValue(r); !bytes.Equal(got, want) {
				t.Errorf("record %d: boltstore stored %x, the baseline puts %x", r.Seq, got, want)
			}
		}
		return nil
	})
}

// Ensure that the raw PostgreSQL baseline copies the very rows pgstore
// stores, into a table of the same shape.
func TestRawPGSameRows(t *testing.T) {
	dsn := pgDSN(t)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := newFleet(t, 3, 9)
	f.enroll(t, s)
	bt := f.batch(2, 7, benchDay)
	if err := mustIngest(ctx, s, bt); err != nil {
		t.Fatal(err)
	}
	raw := openRawPG(t, dsn, "raw_checkins", 1, false)
	if err := raw.commit(ctx, bt.Records); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var diff, n int
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM ((TABLE checkins EXCEPT TABLE raw_checkins)
		UNION ALL (TABLE raw_checkins EXCEPT TABLE checkins)) d), (SELECT count(*) FROM raw_checkins)`).Scan(&diff, &n)
	if err != nil || diff != 0 || n != len(bt.Records) {
		t.Fatalf("rows differing between pgstore and the baseline: %d of %d (%v)", diff, n, err)
	}
}
