package camera

import (
	"slices"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"

	"github.com/anshim/anshim/hardware/camera/internal/corpus"
)

// Ensure that dimensions returns the valid dimensions nearest an estimate,
// nearest first, within 21–177.
func TestDimensions(t *testing.T) {
	for _, tc := range []struct {
		est  float64
		want []int
	}{
		{37, []int{37, 33}},
		{37.8, []int{37, 41}},
		{39.5, []int{41, 37}},
		{34.2, []int{33, 37}},
		{21.4, []int{21, 25}},
		{19, []int{21}},
		{178, []int{177}},
	} {
		if got := dimensions(tc.est); !slices.Equal(got, tc.want) {
			t.Errorf("dimensions(%g) = %v, want %v", tc.est, got, tc.want)
		}
	}
}

// Ensure that perspectiveRetry reads codes seen in perspective whose
// finder patterns gozxing finds but whose grid its detector gets wrong.
func TestPerspectiveRetry(t *testing.T) {
	for _, tc := range []struct {
		class corpus.Class
		i     int
	}{
		{corpus.Tilt, 28}, // 30°, 4.7 px a module: gozxing takes a data module for the alignment pattern
	} {
		f, err := corpus.GenerateFrame(testSeed, tc.class, tc.i)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f.Name, func(t *testing.T) {
			fr := newFrame(f.Image)
			pix, w, h := fr.get(prepSmooth)
			bm, err := gozxing.NewHybridBinarizer(newLumSource(pix, w, h)).GetBlackMatrix()
			if err != nil {
				t.Fatal(err)
			}
			info, err := detector.NewFinderPatternFinder(bm, nil).Find(nil)
			if err != nil {
				t.Fatalf("no finder patterns: %v", err)
			}
			dec := decoder.NewDecoder()
			if det, err := detector.NewDetector(bm).ProcessFinderPatternInfo(info); err == nil {
				if r, err := dec.Decode(det.GetBits(), nil); err == nil {
					t.Fatalf("gozxing's detector read %q: the frame no longer tests the retry", r.GetText())
				}
			}
			text, sampled, err := perspectiveRetry(dec, bm, info)
			if err != nil || text != f.Text {
				t.Fatalf("perspectiveRetry = %q, %v (%d grids); want %q", text, err, sampled, f.Text)
			}
		})
	}
}

// Ensure that squashAxis shrinks one axis by linear interpolation and
// keeps the other.
func TestSquashAxis(t *testing.T) {
	const w, h = 10, 6
	src := make([]byte, w*h)
	for y := range h {
		for x := range w {
			src[y*w+x] = byte(10*x + 20*y)
		}
	}
	for _, tc := range []struct {
		name   string
		alongX bool
		dw, dh int
		want   func(x, y int) byte // value at destination pixel x, y
	}{
		// Destination pixel i samples source (i+0.5)·10/6-0.5 = i·5/3+1/3.
		{"x", true, 6, h, func(x, y int) byte { return byte(10*(float64(x)*5/3+1.0/3)+0.5) + byte(20*y) }},
		// (i+0.5)·6/3-0.5 = 2i+0.5.
		{"y", false, w, 3, func(x, y int) byte { return byte(10*x) + byte(20*(2*float64(y)+0.5)+0.5) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, tc.dw*tc.dh)
			squashAxis(dst, src, w, h, tc.dw, tc.dh, tc.alongX)
			for y := range tc.dh {
				for x := range tc.dw {
					got, want := int(dst[y*tc.dw+x]), int(tc.want(x, y))
					if got < want-1 || got > want+1 {
						t.Errorf("(%d,%d) = %d, want %d±1", x, y, got, want)
					}
				}
			}
		})
	}
}
