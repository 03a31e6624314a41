// Package corpus generates a deterministic set of degraded camera frames with
// and without a QR code, for comparing the camera decoder against zbarimg.
//
// # Frames
//
// Every frame is a 640×480 grey image. A coded frame shows a QR code
// (error correction M, version 5: 37×37 modules) holding a pass-like text
// ("AN1:" and 90 Base45 characters) printed on a paper card, or shown on a
// screen, with a 4-module quiet zone, placed on a background that is not
// plain white (a gradient, low-frequency texture and text-like clutter).
// Frames of class [NoCode] show background and clutter only.
//
// # The synthetic classes
//
// The first classes ([Clean] to [Combined]) are synthetic: a symbol 120–320
// px wide (3.2–8.6 px a module), rotated up to 80°, with Gaussian blur,
// noise, contrast reduced to 40 %, or all of them at once. They are easy:
// a decoder that reads them all reads only 1.25 times as many as zbarimg.
//
// # The kiosk classes
//
// The classes from [Tilt] on model what the camera of an unstaffed
// entrance kiosk sees, with ranges chosen from the physics of the scene,
// not from what either decoder can read. The camera is a 640×480 webcam
// with a 60° horizontal field of view (a pinhole of focal length 554 px).
// A visitor holds a pass up to it: a symbol 30–50 mm wide (a card's print
// or a phone's pass screen) at 10–20 cm, seen 83–277 px wide (2.2–7.5 px
// a module), at any roll angle, under slightly uneven light, through
// optics and a sensor that add a Gaussian blur of σ 0.5 px and noise of σ
// 3 grey levels. Each class then adds one thing the kiosk meets, graded
// from mild to beyond what error correction or the optics can carry, so
// that the harshest frames of every class defeat any decoder:
//
//   - [Tilt]: the phone's screen tilted towards the camera by 20–60° about
//     a random axis, seen in true perspective (foreshortening to cos 60° =
//     0.5 and keystone from the near edge being closer).
//   - [Motion]: the hand moving during the exposure: a linear smear of 3–12
//     px in any direction, which at 1/60 s and 15 cm is a hand moving at
//     5–20 cm/s. The pass blurs, the background does not.
//   - [Small]: a 40 mm symbol held far: 20–50 cm, 3.0–1.2 px a module, at
//     the limit of the sensor's resolution (σ 0.6 px blur).
//   - [LowLight]: an entrance at dusk or under a street lamp, the camera
//     at its longest exposure (1/30 s) and highest gain (one grey level of
//     the linear 8-bit scale per electron): white paper reaches 25 % down
//     to 1 % of full scale, log-uniform, that is 64 down to 2.5 electrons
//     a pixel, about 14 down to 0.6 lux on the pass for a webcam of 2 µm
//     pixels at f/2. Photon shot noise and read noise (2 electrons) on the
//     linear signal, then gamma 2.2 encoding.
//   - [Glare]: a lamp reflected in the phone's glass or the card's
//     laminate: an elliptical (aspect 1–3) specular spot whose saturated
//     core covers 2–35 % of the symbol (error correction M restores about
//     15 % of the codewords), with a halo that washes out the modules
//     around it.
//   - [Finger]: a thumb (14–20 mm wide, shaded like skin) reaching over
//     the symbol from any side, its tip 0–45 % of the symbol's width in
//     from the edge.
//   - [JPEG]: the camera's MJPEG stream, IJG quality 60 down to 30, after
//     noise of σ 4.
//   - [Screen]: a phone screen as a camera sees it: horizontal dark bands
//     of a PWM-dimmed screen caught by the rolling shutter (period 130–260
//     rows: 240 Hz PWM with the 480 rows read out in 8–15 ms, or 120 Hz in
//     15–30 ms; dark for 30–60 % of a period; 20–90 % darker, as the
//     exposure is short against the PWM period) and moiré fringes between
//     the screen's pixel grid and the sensor's (period 3–12 px, 5–30 %).
//
// The graded parameter (tilt angle, smear length, distance, light, glare
// area, finger depth, JPEG quality, band depth) of frame i of a class is
// an additive golden-ratio sequence, so any first n frames of a class
// spread evenly over its range; [Frame.Severity] gives the frame's place.
//
// # Determinism
//
// Frame i of a class depends only on the seed, the class and i: asking for
// more frames per class keeps the first ones unchanged, and classes added
// later (appended to [Classes]) leave the frames of the others unchanged.
package corpus

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

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

	// The kiosk classes; see the package documentation for their ranges.

	Tilt     Class = "tilt"     // phone screen tilted 20–60°, in perspective
	Motion   Class = "motion"   // the pass moving: linear smear of 3–12 px
	Small    Class = "small"    // a 40 mm symbol at 20–50 cm: 3.0–1.2 px a module
	LowLight Class = "lowlight" // white at 25–1 % of full scale, shot and read noise
	Glare    Class = "glare"    // a saturated specular spot over 2–35 % of the symbol
	Finger   Class = "finger"   // a thumb 0–45 % of the symbol's width in from its edge
	JPEG     Class = "jpeg"     // MJPEG compression, quality 60–30
	Screen   Class = "screen"   // PWM bands 20–90 % dark and moiré of a phone screen
)

// Classes lists every class: the synthetic ones, [NoCode], then the kiosk
// classes. A class's place in the list seeds its frames, so new classes
// are appended.
var Classes = []Class{
	Clean, Rotate, Blur, Noise, Contrast, Combined, NoCode,
	Tilt, Motion, Small, LowLight, Glare, Finger, JPEG, Screen,
}

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
	// CodeWidth is the symbol's width in pixels before rotation (0 without
	// a code); for the kiosk classes, as if it faced the camera.
	CodeWidth int
	// Angle is the rotation in degrees.
	Angle float64
	// BlurSigma, NoiseSigma and Contrast are the degradations applied
	// (Contrast 1 is unchanged, 0.4 is 40 %).
	BlurSigma, NoiseSigma, Contrast float64

	// The kiosk classes' parameters (zero for the other classes, and for
	// a kiosk class the ones it does not use).

	// Severity is the frame's place in its class's graded range, from 0
	// (mildest) to 1 (harshest).
	Severity float64
	// SizeMM is the symbol's width and DistanceMM its distance from the
	// camera; ModulePx is a module's width in pixels, facing the camera.
	SizeMM, DistanceMM, ModulePx float64
	// Tilt is the angle in degrees between the pass and the image plane.
	Tilt float64
	// MotionPx is the length of the motion smear in pixels.
	MotionPx float64
	// Exposure is the fraction of full scale white paper reaches (1 for
	// every class but [LowLight]).
	Exposure float64
	// GlareArea is the fraction of the symbol under the saturated core of
	// the glare.
	GlareArea float64
	// FingerDepth is how far the finger reaches into the symbol, as a
	// fraction of its width.
	FingerDepth float64
	// JPEGQuality is the MJPEG quality (IJG scale).
	JPEGQuality int
	// BandDepth is how much darker the screen's PWM bands are (0.9 is
	// 90 %); MoireAmp the moiré fringes' amplitude.
	BandDepth, MoireAmp float64

	Image *image.Gray
}

// Describe returns the frame's parameters as short text for logs, e.g.
// "width 150 px, 30°, tilt 45°".
func (f Frame) Describe() string {
	if f.Text == "" {
		return fmt.Sprintf("no code, blur %.1f, noise %.0f, contrast %.1f", f.BlurSigma, f.NoiseSigma, f.Contrast)
	}
	s := fmt.Sprintf("width %d px, %.0f°", f.CodeWidth, f.Angle)
	if f.ModulePx > 0 {
		s += fmt.Sprintf(" (%.1f px/module, %.0f mm at %.0f cm)", f.ModulePx, f.SizeMM, f.DistanceMM/10)
	}
	s += fmt.Sprintf(", blur %.1f, noise %.0f", f.BlurSigma, f.NoiseSigma)
	if f.Contrast != 1 {
		s += fmt.Sprintf(", contrast %.1f", f.Contrast)
	}
	switch f.Class {
	case Tilt:
		s += fmt.Sprintf(", tilt %.0f°", f.Tilt)
	case Motion:
		s += fmt.Sprintf(", smear %.1f px", f.MotionPx)
	case LowLight:
		s += fmt.Sprintf(", white at %.1f %%", 100*f.Exposure)
	case Glare:
		s += fmt.Sprintf(", glare %.0f %%", 100*f.GlareArea)
	case Finger:
		s += fmt.Sprintf(", finger %.0f %%", 100*f.FingerDepth)
	case JPEG:
		s += fmt.Sprintf(", quality %d", f.JPEGQuality)
	case Screen:
		s += fmt.Sprintf(", bands %.0f %%, moiré %.0f %%", 100*f.BandDepth, 100*f.MoireAmp)
	}
	if f.Severity > 0 {
		s += fmt.Sprintf(", severity %.2f", f.Severity)
	}
	return s
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
// It makes them on all CPUs; the result does not depend on how many.
func Generate(opts Options) ([]Frame, error) {
	n := opts.PerClass
	if n <= 0 {
		n = 1
	}
	classes := opts.Classes
	if classes == nil {
		classes = Classes
	}
	frames := make([]Frame, n*len(classes))
	errs := make([]error, len(frames))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(frames) {
					return
				}
				frames[k], errs[k] = GenerateFrame(opts.Seed, classes[k/n], k%n)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
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
	if ci > slices.Index(Classes, NoCode) {
		f.Exposure = 1
		if err := kioskFrame(&f, r, severity(seed, ci, i)); err != nil {
			return Frame{}, fmt.Errorf("corpus: %s: %w", f.Name, err)
		}
		return f, nil
	}
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
