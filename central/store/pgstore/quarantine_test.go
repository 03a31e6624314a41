package pgstore

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"
)

// Ensure that migration 0009 gives each quarantine entry made before it
// (its payload sealed to the province's key, kept forever) the KST day it
// was received, its hash and size, and clears its payload; and that
// DropQuarantine then drops it with that day.
func TestMigrate_QuarantineRetention(t *testing.T) {
	ctx := context.Background()
	dsn := newDatabase(t)
	pool := newPool(t, dsn)
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(ctx, pool, migs[:8]); err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC) // 01:00 KST on the 26th
	payload := []byte("ANB1 sealed to the province")
	if _, err := pool.Exec(ctx, `INSERT INTO quarantine (device, subject, reason, detail, received, payload)
		VALUES ('k-1', 'anshim.checkins.v-1.k-1', 'bad-signature', '', $1, $2)`, received, payload); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn, nil)
	qs, err := s.Quarantined(ctx, "k-1")
	if err != nil || len(qs) != 1 {
		t.Fatalf("Quarantined = %+v, %v", qs, err)
	}
	q := qs[0]
	wantDay := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC) // 00:00 KST on the 26th
	if len(q.Payload) != 0 || q.Sum != sha256.Sum256(payload) || q.Size != len(payload) || !q.Day.Equal(wantDay) {
		t.Fatalf("migrated entry %+v (payload %d bytes); want day %v, the payload's hash and size, no payload", q, len(q.Payload), wantDay)
	}
	if n, err := s.DropQuarantine(ctx, received); err != nil || n != 1 {
		t.Fatalf("DropQuarantine = %d, %v; want the migrated entry", n, err)
	}
}
