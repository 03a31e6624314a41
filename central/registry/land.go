package registry

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// LandTolerance is how far off a [Land]'s coast a location may be and
// still be on it, in metres: a buffer around every coast, for venues on
// piers and beaches and for the coasts' simplification (see
// central/registry/internal/landgen/README.md).
const LandTolerance = 500.0

// Land is a country's land: polygons with holes (islands, and lakes or
// enclaves cut out), in WGS 84 degrees, with a buffer of [LandTolerance]
// around every coast. The zero Land holds nothing.
type Land struct {
	Name  string // for errors: "South Korea"
	polys []polygon
}

// polygon is an outer ring and its holes, each ring closed, with the box
// of the outer ring.
type polygon struct {
	rings          [][]Location
	minLat, maxLat float64
	minLon, maxLon float64
}

//go:embed korea_land.txt
var koreaLandText []byte

// KoreaLand is South Korea's land with its islands (Jeju, Ulleungdo,
// Dokdo, the western islands), from Natural Earth's 1:10m countries: see
// korea_land.txt and central/registry/internal/landgen.
var KoreaLand = mustParseLand(koreaLandText)

func mustParseLand(text []byte) *Land {
	l, err := ParseLand(text)
	if err != nil {
		panic("registry: embedded land: " + err.Error())
	}
	return l
}

// ParseLand parses a land file: the line "anshim-land v1 NAME", then
// "polygon [LABEL]" lines, each followed by its rings, outer first, one a
// line as space-separated "lon,lat" pairs; lines starting with '#' are
// comments. Every ring is closed (its last point is its first) and has at
// least 4 points.
func ParseLand(text []byte) (*Land, error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<22)
	if !sc.Scan() {
		return nil, errors.New("parse land: empty")
	}
	name, ok := strings.CutPrefix(sc.Text(), "anshim-land v1 ")
	if !ok || strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("parse land: first line %q: want \"anshim-land v1 NAME\"", sc.Text())
	}
	l := &Land{Name: strings.TrimSpace(name)}
	for n := 2; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "" || line[0] == '#':
			continue
		case line == "polygon" || strings.HasPrefix(line, "polygon "):
			l.polys = append(l.polys, polygon{})
			continue
		case len(l.polys) == 0:
			return nil, fmt.Errorf("parse land: line %d: a ring before any \"polygon\" line", n)
		}
		r, err := parseRing(line)
		if err != nil {
			return nil, fmt.Errorf("parse land: line %d: %w", n, err)
		}
		p := &l.polys[len(l.polys)-1]
		if len(p.rings) == 0 {
			p.minLat, p.maxLat, p.minLon, p.maxLon = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
			for _, q := range r {
				p.minLat, p.maxLat = min(p.minLat, q.Lat), max(p.maxLat, q.Lat)
				p.minLon, p.maxLon = min(p.minLon, q.Lon), max(p.maxLon, q.Lon)
			}
		}
		p.rings = append(p.rings, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse land: %w", err)
	}
	if len(l.polys) == 0 {
		return nil, errors.New("parse land: no polygon")
	}
	for i, p := range l.polys {
		if len(p.rings) == 0 {
			return nil, fmt.Errorf("parse land: polygon %d has no ring", i+1)
		}
	}
	return l, nil
}

func parseRing(line string) ([]Location, error) {
	fields := strings.Fields(line)
	r := make([]Location, 0, len(fields))
	for _, f := range fields {
		lon, lat, ok := strings.Cut(f, ",")
		x, err1 := strconv.ParseFloat(lon, 64)
		y, err2 := strconv.ParseFloat(lat, 64)
		if !ok || err1 != nil || err2 != nil || !(x >= -180 && x <= 180) || !(y >= -90 && y <= 90) {
			return nil, fmt.Errorf("point %q: want lon,lat in degrees", f)
		}
		r = append(r, Location{Lat: y, Lon: x})
	}
	if len(r) < 4 || r[0] != r[len(r)-1] {
		return nil, fmt.Errorf("ring of %d points: want at least 4, the last one the first", len(r))
	}
	return r, nil
}

// Polygons returns the number of polygons and of their points.
func (l *Land) Polygons() (polygons, points int) {
	for _, p := range l.polys {
		for _, r := range p.rings {
			points += len(r)
		}
	}
	return len(l.polys), points
}

// Contains reports whether loc is on l: inside one of its polygons and
// none of that polygon's holes, or within [LandTolerance] of a coast.
func (l *Land) Contains(loc Location) bool {
	if math.IsNaN(loc.Lat) || math.IsNaN(loc.Lon) || math.IsInf(loc.Lat, 0) || math.IsInf(loc.Lon, 0) {
		return false
	}
	// The tolerance in degrees, generously, for the boxes.
	dLat := LandTolerance / 110_000
	dLon := LandTolerance / (110_000 * max(math.Cos(loc.Lat*math.Pi/180), 0.01))
	for i := range l.polys {
		p := &l.polys[i]
		if loc.Lat < p.minLat-dLat || loc.Lat > p.maxLat+dLat || loc.Lon < p.minLon-dLon || loc.Lon > p.maxLon+dLon {
			continue
		}
		if p.inside(loc) || p.near(loc, LandTolerance) {
			return true
		}
	}
	return false
}

// inside casts a ray from loc eastwards and counts the edges of every
// ring it crosses: odd is inside the outer ring and outside its holes.
func (p *polygon) inside(loc Location) bool {
	in := false
	for _, r := range p.rings {
		for i := 1; i < len(r); i++ {
			a, b := r[i-1], r[i]
			if (a.Lat > loc.Lat) != (b.Lat > loc.Lat) &&
				loc.Lon < a.Lon+(loc.Lat-a.Lat)*(b.Lon-a.Lon)/(b.Lat-a.Lat) {
				in = !in
			}
		}
	}
	return in
}

// near reports whether loc is within m metres of an edge of p, measured
// on a plane tangent at loc (exact enough for a few kilometres).
func (p *polygon) near(loc Location, m float64) bool {
	const mPerDegLat = 110_574.0
	mPerDegLon := 111_320.0 * math.Cos(loc.Lat*math.Pi/180)
	xy := func(q Location) (float64, float64) {
		return (q.Lon - loc.Lon) * mPerDegLon, (q.Lat - loc.Lat) * mPerDegLat
	}
	for _, r := range p.rings {
		ax, ay := xy(r[0])
		for i := 1; i < len(r); i++ {
			bx, by := xy(r[i])
			dx, dy := bx-ax, by-ay
			t := 0.0
			if l2 := dx*dx + dy*dy; l2 > 0 {
				t = max(0, min(1, -(ax*dx+ay*dy)/l2))
			}
			if math.Hypot(ax+t*dx, ay+t*dy) <= m {
				return true
			}
			ax, ay = bx, by
		}
	}
	return false
}

// Check checks that loc is on l. Its error names the field "location",
// as an [InvalidError].
func (l *Land) Check(loc Location) error {
	if l.Contains(loc) {
		return nil
	}
	return InvalidError{&FieldError{Field: "location", Err: fmt.Errorf(
		"%s N %s E is not on %s's land (or within %g m of its coast): at sea or in another country",
		formatDegrees(loc.Lat), formatDegrees(loc.Lon), l.Name, LandTolerance)}}
}

// CheckLocation checks that loc is within South Korea: first its
// coordinates against the box [Korea], naming "location.lat" or
// "location.lon" when one is out, then the point against [KoreaLand],
// naming "location" when it is at sea or in a neighbouring country.
func CheckLocation(loc Location) error {
	if err := Korea.Check(loc); err != nil {
		return err
	}
	return KoreaLand.Check(loc)
}
