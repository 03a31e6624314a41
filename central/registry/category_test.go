package registry

import (
	"slices"
	"testing"
)

// Ensure that the built-in default stays are those of REFERENCE.md.
func TestCategory_DefaultStay(t *testing.T) {
	want := []struct {
		c    Category
		stay int
	}{
		{Restaurant, 60}, {Cafe, 45}, {Bar, 90}, {Bathhouse, 90}, {Gym, 60},
		{Karaoke, 90}, {PCRoom, 120}, {Church, 90}, {Academy, 120}, {Other, 60},
	}
	var all []Category
	for _, w := range want {
		all = append(all, w.c)
		if got := w.c.DefaultStay(); got != w.stay {
			t.Errorf("%s: default stay %d, want %d", w.c, got, w.stay)
		}
		if !w.c.Valid() {
			t.Errorf("%s is not valid", w.c)
		}
	}
	if !slices.Equal(Categories(), all) {
		t.Errorf("Categories() = %v, want %v", Categories(), all)
	}
	if Category("disco").Valid() || Category("").Valid() || Category("disco").DefaultStay() != 0 {
		t.Error("unknown categories are valid")
	}
}

// Ensure that ParseCategory takes the names in any case, and "café".
func TestParseCategory(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Category
		ok   bool
	}{
		{"restaurant", Restaurant, true},
		{" Cafe ", Cafe, true},
		{"café", Cafe, true},
		{"CAFÉ", Cafe, true},
		{"pc-room", PCRoom, true},
		{"PC-Room", PCRoom, true},
		{"pc room", "", false},
		{"pcroom", "", false},
		{"노래방", "", false},
		{"", "", false},
		{"disco", "", false},
	} {
		got, err := ParseCategory(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseCategory(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// Ensure that Stays override the built-in stays of the categories they
// name, and are checked.
func TestStays(t *testing.T) {
	var none Stays
	if none.Of(Cafe) != 45 || none.Validate() != nil {
		t.Error("nil Stays are not the built-in ones")
	}
	s := Stays{Cafe: 30, Bar: MaxStay}
	if s.Of(Cafe) != 30 || s.Of(Bar) != MaxStay || s.Of(PCRoom) != 120 || s.Of("disco") != 0 {
		t.Errorf("Stays.Of: cafe %d bar %d pc-room %d", s.Of(Cafe), s.Of(Bar), s.Of(PCRoom))
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []Stays{{Cafe: MinStay - 1}, {Bar: MaxStay + 1}, {"disco": 60}, {Gym: 0}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Stays %v: valid", bad)
		}
	}
}
