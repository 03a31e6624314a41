// Package corpus generates a deterministic set of degraded camera frames with
// and without a QR code, for comparing the camera decoder against zbarimg.
//
// # Frames
//
// Every frame is a 640×480 grey image. A coded frame shows a QR code
// (error correction M) holding a pass-like text ("AN1:" and 90 Base45
// characters) printed on a paper card with a 4-module quiet zone, placed on a
// background that is not plain white (a gradient, low-frequency texture and
// text-like clutter). The code's width (the symbol without its quiet zone) is
// 120–320 px. Each [Class] applies its own degradation: rotation up to 80°,
// Gaussian blur, noise, contrast reduced to 40 %, or all of them at once.
// Frames of class [NoCode] show background and clutter only.
//
// # Determinism
//
// Frame i of a class depends only on the seed, the class and i: asking for
// more frames per class keeps the first ones unchanged.
package corpus

import (
	"bufio"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Class names a kind of degradation.
type Class string

// The classes of frames, in the order [Generate] produces them.
const (
	Clean    Class = "clean"    // upright (±5°), sharp, little noise
	Rotate   Class = "rotate"   // rotated 0–80°
	Blur     Class = "blur"     // Gaussian blur σ 0.8–2.0 px
	Noise    Class = "noise"    // Gaussian noise σ 10–28
	Contrast Class = "contrast" // contrast reduced to 40 %, uneven light
	Combined Class = "combined" // rotation, blur, noise and 40–70 % contrast together
	NoCode   Class = "nocode"   // no code: texture and text-like clutter
)

// Classes lists every class, coded ones first.
var Classes = []Class{Clean, Rotate, Blur, Noise, Contrast, Combined, NoCode}

// Frame size.
const (
	Width  = 640
	Height = 480
)

// Frame is one generated image and what it shows.
type Frame struct {
	// Name is a file-name stem, unique in a corpus: "rotate-003".
	Name  string
	Class Class
	// Text is the code's content; empty for [NoCode] frames.
	Text string
	// CodeWidth is the symbol's width in pixels before rotation (0 without a code).
	CodeWidth int
	// Angle is the rotation in degrees.
	Angle float64
	// BlurSigma, NoiseSigma and Contrast are the degradations applied
	// (Contrast 1 is unchanged, 0.4 is 40 %).
	BlurSigma, NoiseSigma, Contrast float64
	Image                           *image.Gray
}

// Options selects a corpus. The zero value is usable: seed 0, one frame per class.
type Options struct {
	// Seed fixes every random choice.
	Seed uint64
	// PerClass is the number of frames of each class; 0 means 1.
	PerClass int
	// Classes restricts the classes; nil means [Classes].
	Classes []Class
}

// Generate returns the frames of the corpus chosen by opts, class by class.
func Generate(opts Options) ([]Frame, error) {
	n := opts.PerClass
	if n <= 0 {
		n = 1
	}
	classes := opts.Classes
	if classes == nil {
		classes = Classes
	}
	frames := make([]Frame, 0, n*len(classes))
	for _, c := range classes {
		for i := range n {
			f, err := GenerateFrame(opts.Seed, c, i)
			if err != nil {
				return nil, err
			}
			frames = append(frames, f)
		}
	}
	return frames, nil
}

// GenerateFrame returns frame i of class c for seed.
func GenerateFrame(seed uint64, c Class, i int) (Frame, error) {
	ci := -1
	for k, cc := range Classes {
		if cc == c {
			ci = k
		}
	}
	if ci < 0 {
		return Frame{}, fmt.Errorf("corpus: unknown class %q", c)
	}
	r := rand.New(rand.NewPCG(seed, uint64(ci)<<32|uint64(i)))
	f := Frame{Name: fmt.Sprintf("%s-%03d", c, i), Class: c, Contrast: 1}
	p := newPlane(Width, Height)
	background(p, r)
	if c != NoCode {
		f.Text = PassText(r)
		f.CodeWidth = 120 + r.IntN(201)
		switch c {
		case Clean:
			f.Angle = r.Float64()*10 - 5
			f.NoiseSigma = 2
		case Rotate:
			f.Angle = r.Float64() * 80
			f.NoiseSigma = 3
			f.BlurSigma = 0.5
		case Blur:
			f.Angle = r.Float64() * 20
			f.BlurSigma = 0.8 + r.Float64()*1.2
			f.NoiseSigma = 2
		case Noise:
			f.Angle = r.Float64() * 20
			f.NoiseSigma = 10 + r.Float64()*18
			f.BlurSigma = 0.5
		case Contrast:
			f.Angle = r.Float64() * 20
			f.Contrast = 0.4
			f.NoiseSigma = 3
			f.BlurSigma = 0.5
		case Combined:
			f.Angle = r.Float64() * 80
			f.BlurSigma = 0.6 + r.Float64()*0.8
			f.NoiseSigma = 5 + r.Float64()*7
			f.Contrast = 0.4 + r.Float64()*0.3
		}
		if err := drawCode(p, r, f.Text, f.CodeWidth, f.Angle); err != nil {
			return Frame{}, fmt.Errorf("corpus: %s: %w", f.Name, err)
		}
	} else {
		f.BlurSigma = r.Float64() * 1.5
		f.NoiseSigma = 2 + r.Float64()*10
		f.Contrast = 0.4 + r.Float64()*0.6
	}
	lighting(p, r, c == Contrast)
	p.blur(f.BlurSigma)
	p.contrast(f.Contrast)
	p.noise(r, f.NoiseSigma)
	f.Image = p.gray()
	return f, nil
}

// base45 is the Base45 alphabet (RFC 9285), all of it in QR's alphanumeric mode.
const base45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// PassText returns a pass-like code text: "AN1:" and 90 Base45 characters.
func PassText(r *rand.Rand) string {
	b := []byte("AN1:")
	for range 90 {
		b = append(b, base45[r.IntN(len(base45))])
	}
	return string(b)
}

// WriteDir writes every frame as DIR/NAME.png and a manifest DIR/manifest.tsv
// with one "NAME.png<TAB>CLASS<TAB>TEXT" line per frame. It returns the
// image paths in frame order.
func WriteDir(dir string, frames []Frame) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	paths := make([]string, 0, len(frames))
	mf, err := os.Create(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer mf.Close()
	mw := bufio.NewWriter(mf)
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	for _, f := range frames {
		path := filepath.Join(dir, f.Name+".png")
		if err := writePNG(&enc, path, f.Image); err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		paths = append(paths, path)
		fmt.Fprintf(mw, "%s.png\t%s\t%s\n", f.Name, f.Class, f.Text)
	}
	if err := mw.Flush(); err != nil {
		return nil, fmt.Errorf("corpus: write manifest: %w", err)
	}
	if err := mf.Close(); err != nil {
		return nil, fmt.Errorf("corpus: write manifest: %w", err)
	}
	return paths, nil
}

func writePNG(enc *png.Encoder, path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := enc.Encode(w, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// plane is a float32 luminance image in [0,255] (values may leave the range
// until gray clamps them).
type plane struct {
	w, h int
	v    []float32
}

func newPlane(w, h int) *plane { return &plane{w, h, make([]float32, w*h)} }

func (p *plane) gray() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, p.w, p.h))
	for i, v := range p.v {
		g.Pix[i] = uint8(math.Round(math.Max(0, math.Min(255, float64(v)))))
	}
	return g
}

// background fills p with a gradient, a low-frequency texture and text-like
// clutter (rows of dark dashes of letter height).
func background(p *plane, r *rand.Rand) {
	base := 120 + r.Float64()*90
	gx, gy := (r.Float64()-0.5)*80/float64(p.w), (r.Float64()-0.5)*80/float64(p.h)
	type wave struct{ fx, fy, ph, amp float64 }
	waves := make([]wave, 3)
	for i := range waves {
		waves[i] = wave{
			fx:  (r.Float64() - 0.5) * 0.05,
			fy:  (r.Float64() - 0.5) * 0.05,
			ph:  r.Float64() * 2 * math.Pi,
			amp: 5 + r.Float64()*15,
		}
	}
	for y := range p.h {
		for x := range p.w {
			v := base + gx*float64(x-p.w/2) + gy*float64(y-p.h/2)
			for _, w := range waves {
				v += w.amp * math.Sin(w.fx*float64(x)+w.fy*float64(y)+w.ph)
			}
			p.v[y*p.w+x] = float32(v)
		}
	}
	// Text-like clutter: a few blocks of lines of "words".
	for range 2 + r.IntN(4) {
		x0, y0 := r.IntN(p.w), r.IntN(p.h)
		lh := 6 + r.IntN(10) // letter height
		ink := float32(20 + r.Float64()*60)
		for line := range 2 + r.IntN(6) {
			y := y0 + line*lh*2
			x := x0
			for range 2 + r.IntN(8) {
				wl := lh/2 + r.IntN(lh*4)
				for xx := x; xx < x+wl; xx++ {
					if r.IntN(3) == 0 { // gaps between letters
						continue
					}
					p.fillRect(xx, y, 1, lh, ink)
				}
				x += wl + lh/2 + r.IntN(lh)
			}
		}
	}
	// Sometimes a patch of random blocks (a floor tile, a pattern on a bag,
	// pixel art): QR-like texture without finder patterns.
	if r.IntN(3) == 0 {
		bs := 3 + r.IntN(6)
		n := 10 + r.IntN(20)
		x0, y0 := r.IntN(p.w-bs*n/2), r.IntN(p.h-bs*n/2)
		dark, light := float32(20+r.Float64()*60), float32(180+r.Float64()*70)
		checker := r.IntN(2) == 0
		for by := range n {
			for bx := range n {
				v := light
				if (checker && (bx+by)%2 == 0) || (!checker && r.IntN(2) == 0) {
					v = dark
				}
				p.fillRect(x0+bx*bs, y0+by*bs, bs, bs, v)
			}
		}
	}
	// A few solid shapes (labels, stickers).
	for range r.IntN(4) {
		w, h := 10+r.IntN(80), 10+r.IntN(80)
		p.fillRect(r.IntN(p.w), r.IntN(p.h), w, h, float32(r.Float64()*255))
	}
}

func (p *plane) fillRect(x0, y0, w, h int, v float32) {
	for y := max(0, y0); y < min(p.h, y0+h); y++ {
		for x := max(0, x0); x < min(p.w, x0+w); x++ {
			p.v[y*p.w+x] = v
		}
	}
}

// drawCode renders text as a QR code on a white card with a 4-module quiet
// zone, symbol width codeWidth px, rotated by angle degrees, at a random
// place where the symbol and 2 modules around it stay inside the frame.
func drawCode(p *plane, r *rand.Rand, text string, codeWidth int, angle float64) error {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: "M",
		gozxing.EncodeHintType_MARGIN:           0,
	}
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		return fmt.Errorf("encode QR: %w", err)
	}
	dim := m.GetWidth()
	mod := float64(codeWidth) / float64(dim) // pixels per module
	th := angle * math.Pi / 180
	cos, sin := math.Cos(th), math.Sin(th)
	half := (float64(dim)/2 + 2) * mod // symbol and 2 modules
	ext := half * (math.Abs(cos) + math.Abs(sin))
	if 2*ext >= float64(p.h) {
		ext = float64(p.h)/2 - 1
	}
	cx := ext + r.Float64()*(float64(p.w)-2*ext)
	cy := ext + r.Float64()*(float64(p.h)-2*ext)
	paper := 225 + r.Float64()*30
	ink := 15 + r.Float64()*30
	const quiet = 4.0
	cardHalf := (float64(dim)/2 + quiet) * mod
	bound := int(cardHalf*(math.Abs(cos)+math.Abs(sin))) + 2
	// Supersample 3×3 per pixel: the card and modules get antialiased edges.
	const ss = 3
	for y := max(0, int(cy)-bound); y < min(p.h, int(cy)+bound); y++ {
		for x := max(0, int(cx)-bound); x < min(p.w, int(cx)+bound); x++ {
			var sum float64
			var onCard int
			for sy := range ss {
				for sx := range ss {
					dx := float64(x) + (float64(sx)+0.5)/ss - cx
					dy := float64(y) + (float64(sy)+0.5)/ss - cy
					// Inverse rotation into module coordinates.
					u := (dx*cos+dy*sin)/mod + float64(dim)/2
					v := (-dx*sin+dy*cos)/mod + float64(dim)/2
					if u < -quiet || v < -quiet || u >= float64(dim)+quiet || v >= float64(dim)+quiet {
						sum += float64(p.v[y*p.w+x])
						continue
					}
					onCard++
					if u >= 0 && v >= 0 && u < float64(dim) && v < float64(dim) && m.Get(int(u), int(v)) {
						sum += ink
					} else {
						sum += paper
					}
				}
			}
			if onCard > 0 {
				p.v[y*p.w+x] = float32(sum / (ss * ss))
			}
		}
	}
	return nil
}

// lighting multiplies p by an uneven illumination: a linear falloff and,
// when strong, a dim side of up to 40 %.
func lighting(p *plane, r *rand.Rand, strong bool) {
	lo := 0.8 + r.Float64()*0.2
	if strong {
		lo = 0.6 + r.Float64()*0.2
	}
	th := r.Float64() * 2 * math.Pi
	dx, dy := math.Cos(th), math.Sin(th)
	diag := math.Hypot(float64(p.w), float64(p.h)) / 2
	for y := range p.h {
		for x := range p.w {
			t := ((float64(x-p.w/2))*dx + (float64(y-p.h/2))*dy) / diag // -1..1
			f := lo + (1-lo)*(t+1)/2
			p.v[y*p.w+x] *= float32(f)
		}
	}
}

// blur applies a separable Gaussian blur of standard deviation sigma pixels.
func (p *plane) blur(sigma float64) {
	if sigma < 0.3 {
		return
	}
	rad := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*rad+1)
	var sum float32
	for i := range k {
		d := float64(i - rad)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float32, len(p.v))
	for y := range p.h {
		row := p.v[y*p.w : (y+1)*p.w]
		for x := range p.w {
			var s float32
			for i, kv := range k {
				xx := min(max(x+i-rad, 0), p.w-1)
				s += kv * row[xx]
			}
			tmp[y*p.w+x] = s
		}
	}
	for y := range p.h {
		for x := range p.w {
			var s float32
			for i, kv := range k {
				yy := min(max(y+i-rad, 0), p.h-1)
				s += kv * tmp[yy*p.w+x]
			}
			p.v[y*p.w+x] = s
		}
	}
}

// contrast scales the image's values towards their mean by c.
func (p *plane) contrast(c float64) {
	if c == 1 {
		return
	}
	var mean float64
	for _, v := range p.v {
		mean += float64(v)
	}
	mean /= float64(len(p.v))
	for i, v := range p.v {
		p.v[i] = float32(mean + (float64(v)-mean)*c)
	}
}

// noise adds Gaussian noise of standard deviation sigma.
func (p *plane) noise(r *rand.Rand, sigma float64) {
	if sigma <= 0 {
		return
	}
	for i := range p.v {
		p.v[i] += float32(r.NormFloat64() * sigma)
	}
}
