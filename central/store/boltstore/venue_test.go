package boltstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/registry"
)

// Ensure that a venue written before the registry (JSON of id, name and
// created only) reads with zero registration fields and can be approved.
func TestVenue_BeforeRegistry(t *testing.T) {
	s := openChecked(t, filepath.Join(t.TempDir(), "central.db"))
	defer s.Close()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketVenues).Put([]byte("v-old"), []byte(`{"id":"v-old","name":"Old","created":"2025-01-01T00:00:00Z"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := s.Venue(ctx, "v-old")
	if err != nil || v.Name != "Old" || v.Status != registry.StatusNone || v.BusinessNumber != "" || v.Category != "" || !v.Updated.IsZero() {
		t.Fatalf("old venue = %+v, %v", v, err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if v, err = s.UpdateVenueStatus(ctx, "v-old", registry.StatusApproved, "", now); err != nil || v.Status != registry.StatusApproved || v.Name != "Old" {
		t.Fatalf("approve old venue = %+v, %v", v, err)
	}
}
