package central

import (
	"context"
	"testing"
	"time"
)

// Ensure that people seen in ingested check-ins have their last use moved
// forward (so the 8-week destruction spares them), and that unknown
// pseudonyms are skipped.
func TestTouchSeen(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	p, err := ts.vault.Register(ctx, "Kim Minji", "010-1234-5678")
	if err != nil {
		t.Fatal(err)
	}
	later := ts.clock.Now().Add(30 * 24 * time.Hour)
	ts.seen.add([][16]byte{p.Pseudonym, {9, 9, 9}})
	if err := ts.touchSeen(ctx, later); err != nil {
		t.Fatal(err)
	}
	got, err := ts.store.Person(ctx, p.ID)
	if err != nil || !got.LastUsed.Equal(later) {
		t.Fatalf("last used %v (%v), want %v", got.LastUsed, err, later)
	}
	if m := ts.seen.take(); len(m) != 0 {
		t.Fatal("seen set not emptied")
	}
}
