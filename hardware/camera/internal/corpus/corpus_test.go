package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"runtime"
	"slices"
	"testing"
)

const testSeed = 20201221

// Ensure that the original classes' frames are the ones they were before
// the kiosk classes were appended: each frame's pixels against the
// SHA-256 they had. Float rounding may differ on other architectures
// (fused multiply-add), so the digests are checked on amd64 only.
func TestGenerateFrame_OriginalClassesUnchanged(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("digests taken on amd64, this is %s", runtime.GOARCH)
	}
	for _, tc := range []struct {
		class Class
		i     int
		sum   string
	}{
		{Clean, 0, "1ddf41a3eb5108b4af5fa65ea80e3f2ed754a9caf21ca6396f8efe67bff14305"},
		{Clean, 13, "cad78008611ca287ec632af87c79cdb4b4581afa771cc5b7ff45a5e923289264"},
		{Rotate, 0, "47050dfe0d0ac4077969bb1a83fa47d767bbb9b62c2778a749574ef5627e7b49"},
		{Blur, 13, "1f86c94577763ba8fb7e935383b7a20075382fb8c5208f4b792119f9c3c4ed94"},
		{Noise, 0, "b52126665272702b314128bc0cf84f201d46bf4e2c487300b0d6ab9d3fe80564"},
		{Contrast, 13, "81ae6af4183be222b191327f6920fe0220cabd5d2d87fb4d7aed8ed605d1f574"},
		{Combined, 0, "a123dc0eb440569ade678705f1deb51ecdff7dd24368b82b05afdbf2123ebbb7"},
		{NoCode, 13, "b62f273087de18aca54315639cb6b8c9f2b499780b4cf4545b45c0659f75320e"},
	} {
		f, err := GenerateFrame(testSeed, tc.class, tc.i)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(f.Image.Pix)
		if got := hex.EncodeToString(sum[:]); got != tc.sum {
			t.Errorf("%s: pixels' SHA-256 %s, want %s", f.Name, got, tc.sum)
		}
	}
}

// Ensure that Generate, which works on all CPUs, returns what
// GenerateFrame does frame by frame, and that asking for more frames per
// class keeps the first ones.
func TestGenerate_Deterministic(t *testing.T) {
	classes := []Class{Rotate, Tilt, Screen}
	fs, err := Generate(Options{Seed: testSeed, PerClass: 3, Classes: classes})
	if err != nil {
		t.Fatal(err)
	}
	fewer, err := Generate(Options{Seed: testSeed, PerClass: 2, Classes: classes})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 9 || len(fewer) != 6 {
		t.Fatalf("got %d and %d frames, want 9 and 6", len(fs), len(fewer))
	}
	for k, f := range fs {
		want, err := GenerateFrame(testSeed, classes[k/3], k%3)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name != want.Name || f.Text != want.Text || !slices.Equal(f.Image.Pix, want.Image.Pix) {
			t.Errorf("frame %d is %s, want %s with the same text and pixels", k, f.Name, want.Name)
		}
		if k%3 < 2 {
			g := fewer[k/3*2+k%3]
			if g.Name != f.Name || !slices.Equal(g.Image.Pix, f.Image.Pix) {
				t.Errorf("%s differs with 2 frames per class", f.Name)
			}
		}
	}
	if _, err := GenerateFrame(testSeed, "fog", 0); err == nil {
		t.Error("GenerateFrame of an unknown class succeeded")
	}
}

// Ensure that every kiosk class's frames keep to the ranges the package
// documentation gives.
func TestGenerateFrame_KioskRanges(t *testing.T) {
	presentedPx := func(f Frame) float64 { return f.ModulePx }
	for _, tc := range []struct {
		class   Class
		what    string
		value   func(Frame) float64
		lo, hi  float64
		modules bool // the presented size range applies (2.2–7.5 px a module)
	}{
		{Tilt, "tilt °", func(f Frame) float64 { return f.Tilt }, 20, 60, false},
		{Motion, "smear px", func(f Frame) float64 { return f.MotionPx }, 3, 12, true},
		{Small, "px a module", presentedPx, 1.19, 3.0, false},
		{LowLight, "exposure", func(f Frame) float64 { return f.Exposure }, 0.01, 0.25, true},
		{Glare, "glare area", func(f Frame) float64 { return f.GlareArea }, 0.02, 0.35, true},
		{Finger, "finger depth", func(f Frame) float64 { return f.FingerDepth }, 0, 0.45, true},
		{JPEG, "quality", func(f Frame) float64 { return float64(f.JPEGQuality) }, 30, 60, true},
		{Screen, "band depth", func(f Frame) float64 { return f.BandDepth }, 0.2, 0.9, true},
		{Screen, "moiré", func(f Frame) float64 { return f.MoireAmp }, 0.05, 0.3, true},
	} {
		t.Run(string(tc.class)+"/"+tc.what, func(t *testing.T) {
			var vals []float64
			for i := range 12 {
				f, err := GenerateFrame(testSeed, tc.class, i)
				if err != nil {
					t.Fatal(err)
				}
				v := tc.value(f)
				vals = append(vals, v)
				if v < tc.lo || v > tc.hi {
					t.Errorf("%s: %s %g outside [%g, %g]", f.Name, tc.what, v, tc.lo, tc.hi)
				}
				if tc.modules && (f.ModulePx < 2.2 || f.ModulePx > 7.5) {
					t.Errorf("%s: %.2f px a module outside [2.2, 7.5]", f.Name, f.ModulePx)
				}
				if f.Text == "" || f.Image.Rect.Dx() != Width || f.Image.Rect.Dy() != Height {
					t.Errorf("%s: text %q, size %v", f.Name, f.Text, f.Image.Rect.Size())
				}
			}
			// The graded parameter spreads over its range.
			lo, hi := slices.Min(vals), slices.Max(vals)
			if hi-lo < (tc.hi-tc.lo)/2 {
				t.Errorf("12 frames span %s %g–%g of %g–%g", tc.what, lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

// Ensure that the severities of any first n frames of a class leave no
// gap wider than 3/n in [0, 1].
func TestSeverity_Spread(t *testing.T) {
	for _, n := range []int{5, 14, 30, 100} {
		s := []float64{0, 1}
		for i := range n {
			s = append(s, severity(testSeed, 9, i))
		}
		slices.Sort(s)
		for k := 1; k < len(s); k++ {
			if gap := s[k] - s[k-1]; gap > 3/float64(n) {
				t.Errorf("n=%d: gap %.3f between %.3f and %.3f", n, gap, s[k-1], s[k])
			}
		}
	}
}

// Ensure that the pinhole pose projects as the camera model says: a
// symbol facing the camera is focal×size/distance pixels wide, and
// unproject inverts project, also when tilted.
func TestPose(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		tilt, azimuth, roll  float64
		wantWidth, tolerance float64
	}{
		{"facing", 0, 0, 0, focalPx * 40 / 200, 1e-9},
		{"rolled", 0, 0, 0.7, focalPx * 40 / 200, 1e-9},
		{"tilted", 50 * math.Pi / 180, 0.3, 1.1, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := newPose(300, 200, 200, tc.tilt, tc.azimuth, tc.roll)
			if x, y := ps.project(0, 0); math.Abs(x-300) > 1e-9 || math.Abs(y-200) > 1e-9 {
				t.Errorf("origin seen at %.3f,%.3f, want 300,200", x, y)
			}
			if tc.wantWidth > 0 {
				x0, y0 := ps.project(-20, 0)
				x1, y1 := ps.project(20, 0)
				if w := math.Hypot(x1-x0, y1-y0); math.Abs(w-tc.wantWidth) > tc.tolerance {
					t.Errorf("40 mm at 20 cm seen %.3f px wide, want %.3f", w, tc.wantWidth)
				}
			}
			for _, p := range [][2]float64{{0, 0}, {-20, 15}, {25, -25}} {
				x, y := ps.project(p[0], p[1])
				u, v, ok := ps.unproject(x, y)
				if !ok || math.Abs(u-p[0]) > 1e-6 || math.Abs(v-p[1]) > 1e-6 {
					t.Errorf("unproject(project(%v)) = %.6f,%.6f,%v", p, u, v, ok)
				}
			}
		})
	}
}
