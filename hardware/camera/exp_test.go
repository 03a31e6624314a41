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
	frames, _ := corpus.Generate(corpus.Options{Seed: 7, PerClass: 60})
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
