package boltstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Ensure that opening a file whose quarantine entries predate their day
// (payload sealed to the province's key, kept forever) gives each the day
// it was received and its hash and size, clears its payload, and lets
// DropQuarantine drop it with that day.
func TestOpen_UpgradesQuarantine(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	received := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC) // 01:00 KST on the 26th
	payload := []byte("ANB1 sealed to the province")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		h, _ := json.Marshal(map[string]any{"device": "k-1", "subject": "anshim.checkins.v-1.k-1", "reason": "bad-signature", "received": received})
		v := append(binary.BigEndian.AppendUint32(nil, uint32(len(h))), h...)
		k := binary.BigEndian.AppendUint64(nil, 1)
		if err := tx.Bucket(bucketQuarantine).Put(k, append(v, payload...)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketQuarByDev).Put(append(deviceKey("k-1", 8), k...), nil); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Delete(keyQuarantineV2)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	qs, err := s.Quarantined(ctx, "k-1")
	if err != nil || len(qs) != 1 {
		t.Fatalf("Quarantined = %+v, %v", qs, err)
	}
	q := qs[0]
	wantDay := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC) // 00:00 KST on the 26th
	if len(q.Payload) != 0 || q.Sum != sha256.Sum256(payload) || q.Size != len(payload) || !q.Day.Equal(wantDay) || q.Reason != "bad-signature" {
		t.Fatalf("upgraded entry %+v (payload %d bytes); want day %v, the payload's hash and size, no payload", q, len(q.Payload), wantDay)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DropQuarantine(ctx, received); err != nil || n != 1 {
		t.Fatalf("DropQuarantine = %d, %v; want the upgraded entry", n, err)
	}
}
