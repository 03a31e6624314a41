package registry

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// validRegistration returns a registration that passes.
func validRegistration() Registration {
	return Registration{
		ID:             "jeju-cafe-0042",
		Name:           " 카페 한라 ",
		BusinessNumber: "1234567891",
		Address:        "제주특별자치도 제주시 중앙로 1",
		Category:       "Café",
		Location:       Location{Lat: 33.4996, Lon: 126.5312},
		OwnerPhone:     "010-1234-5678",
	}
}

// Ensure that a valid registration normalises its fields.
func TestRegistration_Normalize(t *testing.T) {
	got, err := validRegistration().Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := Registration{
		ID:             "jeju-cafe-0042",
		Name:           "카페 한라",
		BusinessNumber: "123-45-67891",
		Address:        "제주특별자치도 제주시 중앙로 1",
		Category:       Cafe,
		Location:       Location{Lat: 33.4996, Lon: 126.5312},
		OwnerPhone:     "+821012345678",
		Status:         StatusApplied,
	}
	if got != want {
		t.Errorf("Normalize =\n%+v\nwant\n%+v", got, want)
	}
	if again, err := got.Normalize(); err != nil || again != got {
		t.Errorf("Normalize of a normal registration = %+v, %v", again, err)
	}
	r := validRegistration()
	r.Status, r.DefaultStay = StatusApproved, 30
	if got, err := r.Normalize(); err != nil || got.Status != StatusApproved || got.DefaultStay != 30 {
		t.Errorf("approved, 30 minutes: %+v, %v", got, err)
	}
}

// Ensure that each bad field is reported by its JSON name, all at once.
func TestRegistration_Validate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(r *Registration)
		field string
		msg   string
	}{
		{"empty id", func(r *Registration) { r.ID = "" }, "id", "want 1 to 64 letters"},
		{"id with a dot", func(r *Registration) { r.ID = "a.b" }, "id", `"a.b"`},
		{"id of 65", func(r *Registration) { r.ID = strings.Repeat("a", 65) }, "id", "want 1 to 64"},
		{"no name", func(r *Registration) { r.Name = "  " }, "name", "missing"},
		{"long name", func(r *Registration) { r.Name = strings.Repeat("가", 67) }, "name", "201 bytes, want at most 200"},
		{"name with a newline", func(r *Registration) { r.Name = "a\nb" }, "name", "holds a line break (U+000A) at byte 1"},
		{"name with U+202E", func(r *Registration) { r.Name = "Cafe \u202eallaH" }, "name", "holds an invisible character (U+202E) at byte 5"},
		{"name of a zero-width space", func(r *Registration) { r.Name = "\u200b" }, "name", "holds an invisible character (U+200B)"},
		{"name of punctuation", func(r *Registration) { r.Name = "--" }, "name", "no letter or digit"},
		{"address with U+2066", func(r *Registration) { r.Address = "제주시 \u2066중앙로 1" }, "address", "invisible character (U+2066)"},
		{"address with a tab", func(r *Registration) { r.Address = "제주시\t중앙로 1" }, "address", "control character (U+0009)"},
		{"name not UTF-8", func(r *Registration) { r.Name = "caf\xe9" }, "name", "not UTF-8"},
		{"no business number", func(r *Registration) { r.BusinessNumber = "" }, "business_number", "missing"},
		{"check digit", func(r *Registration) { r.BusinessNumber = "123-45-67890" }, "business_number", "check digit does not match"},
		{"business number form", func(r *Registration) { r.BusinessNumber = "123-456-7891" }, "business_number", "want 10 digits written NNN-NN-NNNNN"},
		{"no address", func(r *Registration) { r.Address = "" }, "address", "missing"},
		{"long address", func(r *Registration) { r.Address = strings.Repeat("a", 301) }, "address", "301 bytes"},
		{"no category", func(r *Registration) { r.Category = "" }, "category", "missing"},
		{"unknown category", func(r *Registration) { r.Category = "disco" }, "category", `unknown category "disco" (want one of restaurant, cafe, bar, bathhouse, gym, karaoke, pc-room, church, academy, other)`},
		{"short stay", func(r *Registration) { r.DefaultStay = 14 }, "default_stay", "14 minutes: want 15 to 1425"},
		{"negative stay", func(r *Registration) { r.DefaultStay = -1 }, "default_stay", "want 15 to 1425"},
		{"long stay", func(r *Registration) { r.DefaultStay = 1426 }, "default_stay", "want 15 to 1425"},
		{"latitude", func(r *Registration) { r.Location.Lat = 3.4996 }, "location.lat", "3.4996 is outside South Korea (33 to 38.7 N)"},
		{"longitude NaN", func(r *Registration) { r.Location.Lon = math.NaN() }, "location.lon", "not a number"},
		{"no phone", func(r *Registration) { r.OwnerPhone = "" }, "owner_phone", "missing"},
		{"foreign phone", func(r *Registration) { r.OwnerPhone = "+1 202-555-0123" }, "owner_phone", "want a Korean phone number"},
		{"suspended", func(r *Registration) { r.Status = StatusSuspended }, "status", "a new venue is applied or approved"},
		{"unknown status", func(r *Registration) { r.Status = "open" }, "status", `unknown status "open"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRegistration()
			tt.edit(&r)
			err := r.Validate()
			var inv InvalidError
			if !errors.As(err, &inv) || !slices.Equal(inv.Fields(), []string{tt.field}) {
				t.Fatalf("Validate: %v, want an error in %s", err, tt.field)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("errors.As FieldError: %#v", fe)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Validate: %q, want %q and %q", err, tt.field+": ", tt.msg)
			}
			if _, err := r.Normalize(); err == nil {
				t.Fatal("Normalize accepted it")
			}
		})
	}
	var inv InvalidError
	err := Registration{}.Validate()
	if !errors.As(err, &inv) || !slices.Equal(inv.Fields(), []string{"id", "name", "business_number", "address", "category", "location.lat", "location.lon", "owner_phone"}) {
		t.Fatalf("empty registration: %v", err)
	}
	if !strings.Contains(err.Error(), "; business_number: missing; ") {
		t.Errorf("message %q", err)
	}
}
