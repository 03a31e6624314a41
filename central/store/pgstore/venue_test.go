package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
)

// Ensure that migration 0003 gives the venues of an older schema zero
// registration fields, as boltstore reads its older records, and that
// they can be approved.
func TestMigrate_Registry(t *testing.T) {
	dsn := newDatabase(t)
	pool := newPool(t, dsn)
	ctx := context.Background()
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(ctx, pool, migs[:2]); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, "INSERT INTO venues (id, name, created) VALUES ($1, $2, $3)", []byte("v-old"), "Old", created); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn, nil)
	v, err := s.Venue(ctx, "v-old")
	if err != nil || v.Name != "Old" || !v.Created.Equal(created) || v.Status != registry.StatusNone || v.BusinessNumber != "" ||
		v.Category != "" || v.DefaultStay != 0 || v.Location != (registry.Location{}) || !v.Updated.IsZero() {
		t.Fatalf("old venue = %+v, %v", v, err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if v, err = s.UpdateVenueStatus(ctx, "v-old", registry.StatusApproved, "", now); err != nil || v.Status != registry.StatusApproved || !v.Updated.Equal(now) {
		t.Fatalf("approve old venue = %+v, %v", v, err)
	}
}
