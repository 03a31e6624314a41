package form

import (
	"maps"
	"slices"
	"testing"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

func goodVenue() Venue {
	return Venue{Name: "카페 한라", BusinessNumber: "1234567891", Address: "제주특별자치도 제주시 중앙로 1",
		Category: "Cafe", Lat: "33.4996", Lon: "126.5312", OwnerPhone: "010-1234-5678"}
}

// Ensure that the application is validated by the registry's rules and
// each bad field is named with its own message key.
func TestVenue_Validate(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*Venue)
		want   map[string]string
	}{
		{"good", func(*Venue) {}, nil},
		{"wrong check digit", func(v *Venue) { v.BusinessNumber = "123-45-67890" }, map[string]string{"business_number": "venue.err.business_number.check"}},
		{"short business number", func(v *Venue) { v.BusinessNumber = "12345" }, map[string]string{"business_number": "venue.err.business_number"}},
		{"no name", func(v *Venue) { v.Name = "" }, map[string]string{"name": "venue.err.name"}},
		{"unknown category", func(v *Venue) { v.Category = "zoo" }, map[string]string{"category": "venue.err.category"}},
		{"latitude not a number", func(v *Venue) { v.Lat = "north" }, map[string]string{"lat": "venue.err.lat"}},
		{"in the sea off Japan", func(v *Venue) { v.Lat, v.Lon = "35.0", "135.0" }, map[string]string{"lon": "venue.err.lon"}},
		{"stay too short", func(v *Venue) { v.DefaultStay = "5" }, map[string]string{"default_stay": "venue.err.default_stay"}},
		{"stay not a number", func(v *Venue) { v.DefaultStay = "an hour" }, map[string]string{"default_stay": "venue.err.default_stay"}},
		{"bad phone", func(v *Venue) { v.OwnerPhone = "12" }, map[string]string{"owner_phone": "venue.err.owner_phone"}},
		{"two bad fields", func(v *Venue) { v.Name, v.Address = "", "" }, map[string]string{"name": "venue.err.name", "address": "venue.err.address"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := goodVenue()
			tt.change(&f)
			reg, errs := f.Validate("v1234567891")
			if !maps.Equal(errs, tt.want) && !(len(errs) == 0 && len(tt.want) == 0) {
				t.Fatalf("errors %v, want %v", errs, tt.want)
			}
			if tt.want == nil && (reg.BusinessNumber != "123-45-67891" || reg.OwnerPhone != "+821012345678" || reg.Category != registry.Cafe || reg.Status != registry.StatusApplied) {
				t.Errorf("registration %+v, want it normalised and applied", reg)
			}
			for _, key := range errs {
				if !slices.Contains(VenueKeys, key) {
					t.Errorf("key %q is not in VenueKeys", key)
				}
			}
		})
	}
}

// Ensure that an edit is checked by the registry's rules on its four
// fields only, and an empty stay takes the category's.
func TestVenueEdit_Validate(t *testing.T) {
	legacy := store.Venue{ID: "v-old", Name: "Old"} // stored before the registry: no number, phone or location
	for _, tt := range []struct {
		name string
		f    VenueEdit
		want map[string]string
		stay int
	}{
		{"good", VenueEdit{Name: "새 이름", Address: "제주시 1", Category: "bar"}, nil, registry.Bar.DefaultStay()},
		{"own stay", VenueEdit{Name: "새 이름", Address: "제주시 1", Category: "bar", DefaultStay: "45"}, nil, 45},
		{"no address", VenueEdit{Name: "새 이름", Category: "bar"}, map[string]string{"address": "venue.err.address"}, 0},
		{"stay too long", VenueEdit{Name: "a", Address: "b", Category: "bar", DefaultStay: "2000"}, map[string]string{"default_stay": "venue.err.default_stay"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, errs := tt.f.Validate(legacy)
			if len(errs) != len(tt.want) || !maps.Equal(errs, tt.want) && len(tt.want) > 0 {
				t.Fatalf("errors %v, want %v", errs, tt.want)
			}
			if tt.want == nil && (d.DefaultStay != tt.stay || d.Name != tt.f.Name || d.Category != registry.Bar) {
				t.Errorf("details %+v, want stay %d", d, tt.stay)
			}
		})
	}
}
