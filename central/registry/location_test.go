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
		{"corners", 33.0, 124.5, nil},
		{"corners", 38.7, 131.9, nil},
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
