package camera

import (
	"strings"
	"image"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/anshim/anshim/hardware/camera/internal/corpus"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

func TestExp(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	frames, _ := corpus.Generate(corpus.Options{Seed: 20201221, PerClass: 30})
	dec := decoder.NewDecoder()
	type strat struct {
		name string
		fn   func(pix []byte, w, h int) (string, int)
	}
	hyb := func(p []byte, w, h int, th bool) (string, int) {
		bm, _ := gozxing.NewHybridBinarizer(newLumSource(p, w, h)).GetBlackMatrix()
		r := decodeMatrix(dec, bm, th)
		return r.text, r.centers
	}
	strats := []strat{
		{"DECODER", func(p []byte, w, h int) (string, int) { var d Decoder; t, _ := d.Decode(&image.Gray{Pix: p, Stride: w, Rect: image.Rect(0, 0, w, h)}); return t, 0 }},
		{"THOROUGH", func(p []byte, w, h int) (string, int) { d := Decoder{Thorough: true}; t, _ := d.Decode(&image.Gray{Pix: p, Stride: w, Rect: image.Rect(0, 0, w, h)}); return t, 0 }},
		{"up2", func(p []byte, w, h int) (string, int) { d := upscale2(p, w, h); return hyb(d, 2*w, 2*h, false) }},
		{"up2adapt", func(p []byte, w, h int) (string, int) { d := upscale2(p, w, h); r := decodeMatrix(dec, adaptiveThreshold(d, 2*w, 2*h, 24), false); return r.text, r.centers }},
		{"sharp2", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)); sharpen(d, p, w, h); d2 := make([]byte, len(p)); sharpen(d2, d, w, h); return hyb(d2, w, h, false) }},
		{"sharpAdapt", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)); sharpen(d, p, w, h); r := decodeMatrix(dec, adaptiveThreshold(d, w, h, 12), false); return r.text, r.centers }},
		{"adapt8", func(p []byte, w, h int) (string, int) { r := decodeMatrix(dec, adaptiveThreshold(p, w, h, 8), false); return r.text, r.centers }},
		{"adapt12", func(p []byte, w, h int) (string, int) { r := decodeMatrix(dec, adaptiveThreshold(p, w, h, 12), false); return r.text, r.centers }},
		{"zxing", func(p []byte, w, h int) (string, int) {
			bb, _ := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(newLumSource(p, w, h)))
			r, err := qrcode.NewQRCodeReader().Decode(bb, nil)
			if err != nil {
				return "", 0
			}
			return r.GetText(), 0
		}},
		{"hyb", func(p []byte, w, h int) (string, int) { return hyb(p, w, h, false) }},
		{"hybTH", func(p []byte, w, h int) (string, int) { return hyb(p, w, h, true) }},
		{"glob", func(p []byte, w, h int) (string, int) {
			bm, err := gozxing.NewGlobalHistgramBinarizer(newLumSource(p, w, h)).GetBlackMatrix()
			if err != nil {
				return "", 0
			}
			r := decodeMatrix(dec, bm, false)
			return r.text, r.centers
		}},
		{"stretch", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)); stretch(d, p); return hyb(d, w, h, false) }},
		{"smooth", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)); smooth(d, p, w, h); return hyb(d, w, h, false) }},
		{"smoothTH", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)); smooth(d, p, w, h); return hyb(d, w, h, true) }},
		{"sharpen", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)); sharpen(d, p, w, h); return hyb(d, w, h, false) }},
		{"down2", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)/4); downscale2(d, p, w, h); return hyb(d, w/2, h/2, false) }},
		{"down2TH", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)/4); downscale2(d, p, w, h); return hyb(d, w/2, h/2, true) }},
		{"adapt5", func(p []byte, w, h int) (string, int) { r := decodeMatrix(dec, adaptiveThreshold(p, w, h, 5), false); return r.text, r.centers }},
		{"adapt10", func(p []byte, w, h int) (string, int) { r := decodeMatrix(dec, adaptiveThreshold(p, w, h, 10), false); return r.text, r.centers }},
		{"adapt20", func(p []byte, w, h int) (string, int) { r := decodeMatrix(dec, adaptiveThreshold(p, w, h, 20), false); return r.text, r.centers }},
		{"sm+adapt10", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)); smooth(d, p, w, h); r := decodeMatrix(dec, adaptiveThreshold(d, w, h, 10), false); return r.text, r.centers }},
		{"sm+adapt10TH", func(p []byte, w, h int) (string, int) { d := make([]byte, len(p)); smooth(d, p, w, h); r := decodeMatrix(dec, adaptiveThreshold(d, w, h, 10), true); return r.text, r.centers }},
	}
	for _, s := range strats {
		if only := os.Getenv("ONLY"); only != "" && !strings.Contains(only, ","+s.name+",") {
			continue
		}
		ok := map[corpus.Class]int{}
		var ds, dn []time.Duration
		var cn []int
		for _, f := range frames {
			t0 := time.Now()
			txt, c := s.fn(f.Image.Pix, 640, 480)
			d := time.Since(t0)
			if f.Class == corpus.NoCode {
				dn = append(dn, d)
				cn = append(cn, c)
			} else {
				ds = append(ds, d)
			}
			if txt != "" && txt == f.Text {
				ok[f.Class]++
			} else if f.Class != corpus.NoCode && os.Getenv("EXPV") != "" {
				fmt.Printf("  %s fail %s w=%d a=%.0f b=%.1f n=%.0f c=%.1f centers=%d\n", s.name, f.Name, f.CodeWidth, f.Angle, f.BlurSigma, f.NoiseSigma, f.Contrast, c)
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		dn = append(dn, 0)
		sort.Slice(dn, func(i, j int) bool { return dn[i] < dn[j] })
		tot := 0
		line := ""
		for _, c := range corpus.Classes[:6] {
			tot += ok[c]
			line += fmt.Sprintf(" %s=%d", c, ok[c])
		}
		fmt.Printf("%-14s total=%3d%s  med=%v nocode med=%v max=%v centers=%v\n", s.name, tot, line, ds[len(ds)/2].Round(10*time.Microsecond), dn[len(dn)/2].Round(10*time.Microsecond), dn[len(dn)-1].Round(10*time.Microsecond), cn)
	}
}

func upscale2(src []byte, w, h int) []byte {
	W := 2 * w
	dst := make([]byte, 4*w*h)
	for y := range 2 * h {
		sy := float64(y)/2 - 0.25
		y0 := int(sy)
		if sy < 0 { y0 = 0; sy = 0 }
		y1 := min(y0+1, h-1)
		fy := sy - float64(y0)
		for x := range W {
			sx := float64(x)/2 - 0.25
			x0 := int(sx)
			if sx < 0 { x0 = 0; sx = 0 }
			x1 := min(x0+1, w-1)
			fx := sx - float64(x0)
			a := float64(src[y0*w+x0])*(1-fx) + float64(src[y0*w+x1])*fx
			b := float64(src[y1*w+x0])*(1-fx) + float64(src[y1*w+x1])*fx
			dst[y*W+x] = byte(a*(1-fy) + b*fy + 0.5)
		}
	}
	return dst
}

func TestAdaptiveSame(t *testing.T) {
	fs, _ := corpus.Generate(corpus.Options{Seed: 3, PerClass: 1})
	for _, f := range fs {
		for _, r := range []int{3, 12, 20} {
			a := adaptiveThreshold(f.Image.Pix, 640, 480, r)
			b := adaptiveNaive(f.Image.Pix, 640, 480, r)
			if a.String() != b.String() {
				t.Fatalf("%s r=%d differ", f.Name, r)
			}
		}
	}
}

func adaptiveNaive(src []byte, w, h, r int) *gozxing.BitMatrix {
	bm, _ := gozxing.NewBitMatrix(w, h)
	for y := range h {
		for x := range w {
			var sum, n uint32
			for yy := max(y-r, 0); yy < min(y+r+1, h); yy++ {
				for xx := max(x-r, 0); xx < min(x+r+1, w); xx++ {
					sum += uint32(src[yy*w+xx])
					n++
				}
			}
			if uint32(src[y*w+x])*n+2*n < sum {
				bm.Set(x, y)
			}
		}
	}
	return bm
}

func BenchmarkAdaptive(b *testing.B) {
	fs, _ := corpus.Generate(corpus.Options{Seed: 3, PerClass: 1, Classes: []corpus.Class{corpus.NoCode}})
	for b.Loop() {
		adaptiveThreshold(fs[0].Image.Pix, 640, 480, 12)
	}
}
