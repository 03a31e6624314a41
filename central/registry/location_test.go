package registry

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// Ensure that locations in South Korea are accepted, and the rest refused
// naming the coordinate.
func TestValidateLocation(t *testing.T) {
	for _, tt := range []struct {
		name     string
		lat, lon float64
		bad      []string // fields
	}{
		{"Jeju City", 33.4996, 126.5312, nil},
		{"Seogwipo", 33.2541, 126.5600, nil},
		{"Marado", 33.1166, 126.2669, nil},
		{"Seoul", 37.5665, 126.9780, nil},
		{"Dokdo", 37.2426, 131.8597, nil},
		{"corner, at sea", 33.0, 124.5, []string{"location"}},
		{"corner, at sea", 38.7, 131.9, []string{"location"}},
		{"swapped", 126.5312, 33.4996, []string{"location.lat", "location.lon"}},
		{"sign lost", -33.4996, 126.5312, []string{"location.lat"}},
		{"zero", 0, 0, []string{"location.lat", "location.lon"}},
		{"Tokyo", 35.6762, 139.6503, []string{"location.lon"}},
		{"Pyongyang", 39.0392, 125.7625, []string{"location.lat"}},
		{"NaN", math.NaN(), 126.5, []string{"location.lat"}},
		{"Inf", 33.5, math.Inf(1), []string{"location.lon"}},
		{"-Inf", math.Inf(-1), math.NaN(), []string{"location.lat", "location.lon"}},
	} {
		err := ValidateLocation(tt.lat, tt.lon)
		var inv InvalidError
		if tt.bad == nil {
			if err != nil {
				t.Errorf("%s (%v, %v): %v", tt.name, tt.lat, tt.lon, err)
			}
			continue
		}
		if !errors.As(err, &inv) || !slices.Equal(inv.Fields(), tt.bad) {
			t.Errorf("%s (%v, %v): %v, want errors in %v", tt.name, tt.lat, tt.lon, err, tt.bad)
		}
	}
	err := ValidateLocation(91, 126.5)
	if err == nil || err.Error() != "location.lat: 91 is outside South Korea (33 to 38.7 N)" {
		t.Errorf("error = %v", err)
	}
	if err := ValidateLocation(math.NaN(), 126.5); err == nil || !strings.Contains(err.Error(), "location.lat: not a number") {
		t.Errorf("NaN: %v", err)
	}
	err = ValidateLocation(33.5902, 130.4017)
	if err == nil || err.Error() != "location: 33.5902 N 130.4017 E is not on South Korea's land (or within 500 m of its coast): at sea or in another country" {
		t.Errorf("Fukuoka: %v", err)
	}
}

// Ensure that towns, islands and coasts of South Korea are on its land,
// and the sea and the neighbours inside its box are not, named as the
// field "location" (or the coordinate, outside the box).
func TestKoreaLand(t *testing.T) {
	for _, tt := range []struct {
		name     string
		lat, lon float64
		bad      []string // fields; nil: accepted
	}{
		{"Seoul City Hall", 37.5665, 126.9780, nil},
		{"Busan City Hall", 35.1796, 129.0756, nil},
		{"Busan, Haeundae beach", 35.1587, 129.1604, nil},
		{"Busan, Gamcheon port pier", 35.0790, 129.0110, nil},
		{"Jeju City", 33.4996, 126.5312, nil},
		{"Jeju airport", 33.5113, 126.4930, nil},
		{"Seogwipo", 33.2541, 126.5600, nil},
		{"Seongsan Ilchulbong", 33.4580, 126.9420, nil},
		{"Udo", 33.5065, 126.9531, nil},
		{"Marado", 33.1166, 126.2669, nil},
		{"Gapado", 33.1680, 126.2710, nil},
		{"Chujado", 33.9570, 126.2990, nil},
		{"Ulleungdo, Dodong", 37.4844, 130.9057, nil},
		{"Dokdo, Dongdo", 37.2411, 131.8693, nil},
		{"Dokdo, Seodo", 37.2428, 131.8645, nil},
		{"Baengnyeongdo", 37.9650, 124.6700, nil},
		{"Yeonpyeongdo", 37.6660, 125.6960, nil},
		{"Gageodo", 34.0720, 125.1120, nil},
		{"Heuksando", 34.6840, 125.4350, nil},
		{"Incheon airport", 37.4602, 126.4407, nil},
		{"Cheorwon, by the DMZ", 38.1467, 127.3133, nil},
		{"Sokcho", 38.2070, 128.5918, nil},
		{"Geojedo", 34.8806, 128.6211, nil},
		{"Fukuoka", 33.5902, 130.4017, []string{"location"}},
		{"Tsushima, Izuhara", 34.2030, 129.2880, []string{"location"}},
		{"Tsushima, Hitakatsu", 34.6531, 129.4700, []string{"location"}},
		{"Iki", 33.7500, 129.7000, []string{"location"}},
		{"Kaesong", 37.9706, 126.5544, []string{"location"}},
		{"Haeju", 38.0400, 125.7100, []string{"location"}},
		{"Kumgangsan", 38.6500, 128.1000, []string{"location"}},
		{"Jeju Strait, open sea", 33.8000, 126.6000, []string{"location"}},
		{"East Sea", 37.5000, 130.0000, []string{"location"}},
		{"Yellow Sea", 36.0000, 125.0000, []string{"location"}},
		{"off Busan, 5 km", 35.0500, 129.1500, []string{"location"}},
		{"Pyongyang", 39.0392, 125.7625, []string{"location.lat"}},
		{"Shanghai", 31.2304, 121.4737, []string{"location.lat", "location.lon"}},
		{"Vladivostok", 43.1155, 131.8855, []string{"location.lat"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLocation(Location{Lat: tt.lat, Lon: tt.lon})
			var inv InvalidError
			switch {
			case tt.bad == nil && err != nil:
				t.Errorf("(%v, %v): %v", tt.lat, tt.lon, err)
			case tt.bad != nil && (!errors.As(err, &inv) || !slices.Equal(inv.Fields(), tt.bad)):
				t.Errorf("(%v, %v): %v, want errors in %v", tt.lat, tt.lon, err, tt.bad)
			}
			if on := KoreaLand.Contains(Location{Lat: tt.lat, Lon: tt.lon}); on != (tt.bad == nil) {
				t.Errorf("KoreaLand.Contains = %v", on)
			}
		})
	}
}

// Ensure that the buffer is LandTolerance: a point due south of Marado's
// southern tip is on land up to 500 m off the coast, and not beyond.
func TestKoreaLand_Tolerance(t *testing.T) {
	// Marado's octagon: 0.7 km around 33.1178 N; its southern vertex.
	south := 33.1178 - 0.7/110.57
	for _, tt := range []struct {
		off float64 // metres south of the coast
		on  bool
	}{{0, true}, {-100, true}, {250, true}, {480, true}, {520, false}, {2000, false}} {
		loc := Location{Lat: south - tt.off/110_574, Lon: 126.2669}
		if got := KoreaLand.Contains(loc); got != tt.on {
			t.Errorf("%g m off Marado: on land = %v, want %v", tt.off, got, tt.on)
		}
	}
}

// Ensure that the embedded land parses into the polygons the generator
// wrote, with its holes honoured.
func TestParseLand(t *testing.T) {
	polys, points := KoreaLand.Polygons()
	if polys < 55 || points < 1000 || points > 4000 || KoreaLand.Name != "South Korea" {
		t.Errorf("KoreaLand: %q, %d polygons, %d points", KoreaLand.Name, polys, points)
	}
	// A square with a square hole; the buffer makes a point 300 m inside
	// the hole's edge land, 1 km inside not.
	const square = "anshim-land v1 Test\n# comment\npolygon a label\n" +
		"126,33 127,33 127,34 126,34 126,33\n" +
		"126.4,33.4 126.6,33.4 126.6,33.6 126.4,33.6 126.4,33.4\n"
	l, err := ParseLand([]byte(square))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		loc Location
		on  bool
	}{
		{Location{33.2, 126.2}, true},
		{Location{33.5, 126.5}, false},    // in the hole
		{Location{33.5, 126.4033}, true},  // 300 m into the hole
		{Location{33.5, 126.4108}, false}, // 1 km into the hole
		{Location{33.5, 125.9967}, true},  // 300 m west
		{Location{33.5, 125.9892}, false}, // 1 km west
		{Location{33.5, math.NaN()}, false},
	} {
		if got := l.Contains(tt.loc); got != tt.on {
			t.Errorf("Contains(%v) = %v, want %v", tt.loc, got, tt.on)
		}
	}
	for _, tt := range []struct{ text, err string }{
		{"", "empty"},
		{"anshim-land v2 X\npolygon\n0,0 1,0 1,1 0,0\n", "want \"anshim-land v1 NAME\""},
		{"anshim-land v1 X\n", "no polygon"},
		{"anshim-land v1 X\npolygon\n", "polygon 1 has no ring"},
		{"anshim-land v1 X\n0,0 1,0 1,1 0,0\n", "line 2: a ring before"},
		{"anshim-land v1 X\npolygon\n0,0 1,0 1,1\n", "line 3: ring of 3 points"},
		{"anshim-land v1 X\npolygon\n0,0 1,0 1,1 0,1\n", "the last one the first"},
		{"anshim-land v1 X\npolygon\n0,0 1;0 1,1 0,0\n", `point "1;0"`},
		{"anshim-land v1 X\npolygon\n0,0 1,95 1,1 0,0\n", `point "1,95"`},
	} {
		if _, err := ParseLand([]byte(tt.text)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseLand(%q) = %v, want an error with %q", tt.text, err, tt.err)
		}
	}
}

// Ensure that Jeju's box holds the island's towns and not the mainland.
func TestBounds_Jeju(t *testing.T) {
	for _, loc := range []Location{JejuCity, {33.2541, 126.5600}, {33.5113, 126.4930}} {
		if !Jeju.Contains(loc) || !Korea.Contains(loc) {
			t.Errorf("%v is not in Jeju and Korea", loc)
		}
	}
	if Jeju.Contains(Location{37.5665, 126.9780}) {
		t.Error("Seoul is in Jeju")
	}
}
