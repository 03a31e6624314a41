package main

import (
	"math"
	"testing"
)

// Ensure that simplify drops points within the tolerance, keeps those
// beyond it, and keeps a small ring whole.
func TestSimplify(t *testing.T) {
	// A square with a point 0.001° off its bottom edge and one 0.01° off.
	r := []point{{0, 0}, {0.5, -0.001}, {1, 0}, {1, 1}, {0.5, 1.01}, {0, 1}, {0, 0}}
	got := simplify(r, 0.002)
	want := []point{{0, 0}, {1, 0}, {1, 1}, {0.5, 1.01}, {0, 1}, {0, 0}}
	if len(got) != len(want) {
		t.Fatalf("simplify = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("simplify = %v, want %v", got, want)
		}
	}
	tiny := []point{{0, 0}, {0.0001, 0}, {0.0001, 0.0001}, {0, 0.0001}, {0, 0}}
	if got := simplify(tiny, 0.002); len(got) != len(tiny) {
		t.Errorf("a tiny island became %v", got)
	}
}

// Ensure that an island's octagon is closed and about its radius from its
// centre.
func TestOctagon(t *testing.T) {
	is := island{"Udo", 33.505, 126.953, 2}
	r := octagon(is)
	if len(r) != 9 || r[0] != r[8] {
		t.Fatalf("octagon %v is not closed", r)
	}
	for _, p := range r {
		dx := (p[0] - is.lon) * 111.32 * math.Cos(is.lat*math.Pi/180)
		dy := (p[1] - is.lat) * 110.57
		if d := math.Hypot(dx, dy); math.Abs(d-2) > 0.01 {
			t.Errorf("vertex %v is %.3f km from the centre", p, d)
		}
	}
}
