package registry

import (
	"fmt"
	"math"
	"strconv"
)

// Location is a point in WGS 84 degrees: latitude north, longitude east.
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Bounds is a box of latitudes and longitudes, edges included.
type Bounds struct {
	Name           string // for errors: "South Korea"
	MinLat, MaxLat float64
	MinLon, MaxLon float64
}

// Korea is South Korea's bounding box, from Marado (33.11 N) and Gageodo
// (125.07 E) to the DMZ (38.6 N) and Dokdo (131.87 E), with a margin. It
// is what [CheckLocation] checks first, before [KoreaLand].
var Korea = Bounds{Name: "South Korea", MinLat: 33.0, MaxLat: 38.7, MinLon: 124.5, MaxLon: 131.9}

// Jeju is Jeju island's bounding box, for synthetic data and a province
// that wants its venues on the island.
var Jeju = Bounds{Name: "Jeju", MinLat: 33.11, MaxLat: 33.57, MinLon: 126.15, MaxLon: 126.97}

// JejuCity is the centre of Jeju City.
var JejuCity = Location{Lat: 33.4996, Lon: 126.5312}

// Contains reports whether loc is in b.
func (b Bounds) Contains(loc Location) bool { return b.Check(loc) == nil }

// Check checks that loc is in b. Its error names the bad coordinates,
// "location.lat" and "location.lon", as an [InvalidError].
func (b Bounds) Check(loc Location) error {
	var errs InvalidError
	if err := checkCoordinate(loc.Lat, b.MinLat, b.MaxLat, 'N', b.Name); err != nil {
		errs = append(errs, &FieldError{Field: "location.lat", Err: err})
	}
	if err := checkCoordinate(loc.Lon, b.MinLon, b.MaxLon, 'E', b.Name); err != nil {
		errs = append(errs, &FieldError{Field: "location.lon", Err: err})
	}
	return errs.orNil()
}

func checkCoordinate(v, lo, hi float64, dir byte, name string) error {
	switch {
	case math.IsNaN(v):
		return fmt.Errorf("not a number")
	case math.IsInf(v, 0):
		return fmt.Errorf("infinite")
	case v < lo || v > hi:
		return fmt.Errorf("%s is outside %s (%s to %s %c)", formatDegrees(v), name, formatDegrees(lo), formatDegrees(hi), dir)
	}
	return nil
}

func formatDegrees(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// ValidateLocation checks that a venue's latitude and longitude are
// numbers within South Korea: see [CheckLocation].
func ValidateLocation(lat, lon float64) error {
	return CheckLocation(Location{Lat: lat, Lon: lon})
}
