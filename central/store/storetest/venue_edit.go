package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// VenueEdits checks a backend's store.VenueEdits on s, an empty store:
// editing details (Updated moves only on a change, the rest of the venue
// stays), listing a venue's tokens latest first, and deleting an unused
// token but not a used one or another venue's.
func VenueEdits(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	ve, ok := s.(store.VenueEdits)
	if !ok {
		t.Fatalf("%T does not implement store.VenueEdits", s)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	v := store.Venue{ID: "v-1", Name: "Cafe", BusinessNumber: "220-81-62517", Address: "Jeju", Category: registry.Cafe,
		DefaultStay: 60, Location: registry.JejuCity, OwnerPhone: "+82647001234", Status: registry.StatusApproved, Created: t0, Updated: t0}
	if err := s.AddVenue(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := s.AddVenue(ctx, store.Venue{ID: "v-2", Name: "Other", Created: t0, Updated: t0}); err != nil {
		t.Fatal(err)
	}

	t1 := t0.Add(time.Hour)
	d := store.VenueDetails{Name: "카페 한라", Address: "제주시 중앙로 1", Category: registry.Restaurant, DefaultStay: 90}
	before, after, err := ve.UpdateVenueDetails(ctx, "v-1", d, t1)
	if err != nil {
		t.Fatal(err)
	}
	if before.Name != "Cafe" || after.Name != d.Name || after.Address != d.Address || after.Category != d.Category ||
		after.DefaultStay != 90 || !after.Updated.Equal(t1) || after.BusinessNumber != v.BusinessNumber || after.Status != v.Status {
		t.Errorf("edit: before %+v, after %+v", before, after)
	}
	got, err := s.Venue(ctx, "v-1")
	if err != nil || got.Name != d.Name || got.Category != d.Category || got.DefaultStay != 90 || got.OwnerPhone != v.OwnerPhone {
		t.Errorf("venue after the edit: %+v, %v", got, err)
	}
	if _, again, err := ve.UpdateVenueDetails(ctx, "v-1", d, t1.Add(time.Hour)); err != nil || !again.Updated.Equal(t1) {
		t.Errorf("the same details again: Updated %v, %v; want it unchanged at %v", again.Updated, err, t1)
	}
	if _, _, err := ve.UpdateVenueDetails(ctx, "nowhere", d, t1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("edit of an unknown venue: %v, want ErrNotFound", err)
	}

	tok := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	for i, tt := range []struct {
		text, venue string
	}{{"a", "v-1"}, {"b", "v-1"}, {"c", "v-2"}} {
		if err := s.AddToken(ctx, store.Token{Hash: tok(tt.text), Venue: tt.venue, Expires: t0.Add(time.Duration(i+1) * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UseToken(ctx, tok("a"), t0); err != nil {
		t.Fatal(err)
	}
	list, err := ve.VenueTokens(ctx, "v-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Hash != tok("b") || list[0].Used || list[1].Hash != tok("a") || !list[1].Used ||
		!list[1].Expires.Equal(t0.Add(24*time.Hour)) || list[0].Venue != "v-1" {
		t.Errorf("tokens of v-1: %+v, want b then a (used)", list)
	}
	for _, tt := range []struct {
		name, venue, text string
		want              error
	}{
		{"used", "v-1", "a", store.ErrTokenUsed},
		{"another venue's", "v-1", "c", store.ErrNotFound},
		{"unknown", "v-1", "z", store.ErrNotFound},
		{"unused", "v-1", "b", nil},
		{"deleted already", "v-1", "b", store.ErrNotFound},
	} {
		if err := ve.DeleteToken(ctx, tt.venue, tok(tt.text)); !errors.Is(err, tt.want) {
			t.Errorf("delete %s token: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := s.UseToken(ctx, tok("b"), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("use of a deleted token: %v, want ErrNotFound", err)
	}
	if list, err := ve.VenueTokens(ctx, "v-1"); err != nil || len(list) != 1 {
		t.Errorf("tokens of v-1 after the delete: %+v, %v; want the used one", list, err)
	}
}
