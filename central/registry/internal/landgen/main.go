// Command landgen makes central/registry/korea_land.txt, South Korea's
// land for the venue registry's location check, from Natural Earth's
// 1:10m admin-0 countries as the world-atlas npm package ships them
// (TopoJSON, quantized to 1e5 steps of the world).
//
// Usage (from the repository's root):
//
//	npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
//	go run ./central/registry/internal/landgen -in package/countries-10m.json \
//		-out central/registry/korea_land.txt
//
// It takes the feature named "South Korea" (ISO 3166 numeric 410),
// simplifies each ring with Douglas–Peucker (-tolerance degrees, keeping
// every island: a ring that would fall below 4 points keeps its own), adds
// the small inhabited islands that 1:10m leaves out (see extraIslands) as
// octagons, and writes the rings with 5 decimals (about a metre). See
// README.md beside this file.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
)

type topology struct {
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Arcs    [][][2]float64 `json:"arcs"`
	Objects map[string]struct {
		Geometries []struct {
			Type       string            `json:"type"`
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
			Arcs       json.RawMessage   `json:"arcs"`
		} `json:"geometries"`
	} `json:"objects"`
}

// point is longitude, latitude.
type point [2]float64

// island is a small island missing from the source, as an octagon of
// radius km around its centre.
type island struct {
	name     string
	lat, lon float64
	km       float64
}

// extraIslands are inhabited islands that Natural Earth's 1:10m countries
// leave out, with their centres (to about 100 m, from the islands' charts)
// and a radius that covers the island. Dokdo is in the source, but as one
// 4-point polygon about 300 m across on its western islet (Seodo): the
// octagon adds the eastern one (Dongdo), where its people live.
var extraIslands = []island{
	{"Dokdo", 37.2419, 131.8670, 0.4},
	{"Marado", 33.1178, 126.2669, 0.7},
	{"Gapado", 33.1700, 126.2720, 0.9},
	{"Udo", 33.5050, 126.9530, 2.0},
	{"Biyangdo", 33.4080, 126.2280, 0.6},
	{"Chujado", 33.9550, 126.3000, 3.0},
	{"Hongdo", 34.6850, 125.1950, 1.5},
	{"Socheongdo", 37.7680, 124.7600, 1.2},
	{"Gogunsan (Seonyudo)", 35.8150, 126.4200, 2.5},
}

func main() {
	in := flag.String("in", "countries-10m.json", "world-atlas countries-10m.json (TopoJSON)")
	out := flag.String("out", "korea_land.txt", "output `file`")
	name := flag.String("name", "South Korea", "the feature's name")
	tol := flag.Float64("tolerance", 0.002, "Douglas–Peucker tolerance in `degrees`")
	flag.Parse()
	if err := run(*in, *out, *name, *tol); err != nil {
		fmt.Fprintln(os.Stderr, "landgen:", err)
		os.Exit(1)
	}
}

func run(in, out, name string, tol float64) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var t topology
	if err := json.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("parse %s: %w", in, err)
	}
	polys, err := extract(&t, name)
	if err != nil {
		return err
	}
	before, after := 0, 0
	for _, p := range polys {
		for i, r := range p {
			before += len(r)
			p[i] = simplify(r, tol)
			after += len(p[i])
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "anshim-land v1 %s\n", name)
	fmt.Fprintf(w, "# Natural Earth 1:10m admin-0 countries (public domain), feature %q, as\n", name)
	fmt.Fprintf(w, "# world-atlas 2.0.2 ships it (TopoJSON quantized to 1e5); Douglas-Peucker\n")
	fmt.Fprintf(w, "# %g degrees; %d of %d points; made by central/registry/internal/landgen.\n", tol, after, before)
	fmt.Fprintf(w, "# One polygon per \"polygon\" line, then its rings, outer first: lon,lat pairs.\n")
	for _, p := range polys {
		fmt.Fprintln(w, "polygon")
		for _, r := range p {
			writeRing(w, r)
		}
	}
	for _, is := range extraIslands {
		fmt.Fprintf(w, "polygon %s (not in the source: octagon of %g km around %g N %g E)\n", is.name, is.km, is.lat, is.lon)
		writeRing(w, octagon(is))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "landgen: %d polygons + %d islands, %d of %d points\n", len(polys), len(extraIslands), after, before)
	return f.Close()
}

func writeRing(w *bufio.Writer, r []point) {
	for i, p := range r {
		if i > 0 {
			w.WriteByte(' ')
		}
		w.WriteString(strconv.FormatFloat(p[0], 'f', 5, 64))
		w.WriteByte(',')
		w.WriteString(strconv.FormatFloat(p[1], 'f', 5, 64))
	}
	w.WriteByte('\n')
}

// extract returns the polygons (rings of points, outer first, each closed)
// of the geometry named name.
func extract(t *topology, name string) ([][][]point, error) {
	arcs := make([][]point, len(t.Arcs))
	for i, a := range t.Arcs {
		var x, y float64
		for _, d := range a {
			x, y = x+d[0], y+d[1]
			arcs[i] = append(arcs[i], point{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]})
		}
	}
	ring := func(ids []int) []point {
		var r []point
		for _, id := range ids {
			var a []point
			if id >= 0 {
				a = arcs[id]
			} else {
				src := arcs[^id]
				for j := len(src) - 1; j >= 0; j-- {
					a = append(a, src[j])
				}
			}
			if len(r) > 0 {
				a = a[1:] // shared with the previous arc's last point
			}
			r = append(r, a...)
		}
		return r
	}
	for _, obj := range t.Objects {
		for _, g := range obj.Geometries {
			if g.Properties["name"] != name {
				continue
			}
			var mp [][][]int
			switch g.Type {
			case "Polygon":
				var p [][]int
				if err := json.Unmarshal(g.Arcs, &p); err != nil {
					return nil, err
				}
				mp = [][][]int{p}
			case "MultiPolygon":
				if err := json.Unmarshal(g.Arcs, &mp); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("%s is a %s", name, g.Type)
			}
			var out [][][]point
			for _, p := range mp {
				var rings [][]point
				for _, ids := range p {
					rings = append(rings, ring(ids))
				}
				out = append(out, rings)
			}
			return out, nil
		}
	}
	return nil, errors.New("no feature named " + strconv.Quote(name))
}

// simplify returns the closed ring r simplified with Douglas–Peucker at
// tol degrees, or r itself when that would leave fewer than 4 points.
func simplify(r []point, tol float64) []point {
	if len(r) <= 4 {
		return r
	}
	keep := make([]bool, len(r))
	keep[0], keep[len(r)-1] = true, true
	// A closed ring starts and ends at one point: split it at the point
	// farthest from the start too.
	far, fd := 0, -1.0
	for i, p := range r {
		if d := math.Hypot(p[0]-r[0][0], p[1]-r[0][1]); d > fd {
			far, fd = i, d
		}
	}
	keep[far] = true
	dp(r, 0, far, tol, keep)
	dp(r, far, len(r)-1, tol, keep)
	var out []point
	for i, k := range keep {
		if k {
			out = append(out, r[i])
		}
	}
	if len(out) < 4 {
		return r
	}
	return out
}

func dp(r []point, i, j int, tol float64, keep []bool) {
	if j <= i+1 {
		return
	}
	k, kd := -1, tol
	for m := i + 1; m < j; m++ {
		if d := segDist(r[m], r[i], r[j]); d > kd {
			k, kd = m, d
		}
	}
	if k < 0 {
		return
	}
	keep[k] = true
	dp(r, i, k, tol, keep)
	dp(r, k, j, tol, keep)
}

// segDist is the distance in degrees from p to the segment ab.
func segDist(p, a, b point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = max(0, min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

// octagon returns a closed octagon of radius is.km around the island's
// centre.
func octagon(is island) []point {
	var r []point
	for i := range 9 {
		th := float64(i%8) * math.Pi / 4
		r = append(r, point{
			is.lon + is.km*math.Cos(th)/(111.32*math.Cos(is.lat*math.Pi/180)),
			is.lat + is.km*math.Sin(th)/110.57,
		})
	}
	return r
}
