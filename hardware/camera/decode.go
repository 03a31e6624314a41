package camera

import (
	"errors"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// ErrNoCode reports that an image shows no QR code that could be found.
// Callers branch on it with errors.Is: for a camera it is the common case.
var ErrNoCode = errors.New("no QR code found")

// ErrUnreadable reports that a QR code was located but its content could
// not be read (too damaged, blurred or noisy for error correction). The
// error returned wraps it together with gozxing's reason.
var ErrUnreadable = errors.New("QR code found but unreadable")

// Decoder reads QR codes from camera frames and image files with gozxing,
// in pure Go.
//
// Decode first makes a few cheap passes: gozxing's hybrid binarizer on a
// smoothed copy of the frame, on a half-size copy and on an inverted
// half-size copy (for light-on-dark codes, which gozxing does not read),
// and a local-mean threshold on a sharpened copy (for blur). Only when one
// of them found three finder patterns that could frame a code does it go on
// to the fall-backs (the frame as it is, a global-histogram threshold,
// sharpening, wider local means, contrast stretch), so a frame without a
// code costs a few milliseconds.
//
// For codes seen in perspective (a phone tilted towards the camera), every
// pass retries a triple of finder patterns that gozxing's detector could
// not read with a dimension and an alignment pattern found for a symbol
// seen in perspective (see perspectiveRetry), and a frame where a code was
// seen but not read ends with copies squashed along one axis, which let
// gozxing's finder accept finder patterns foreshortened by more than 40 %.
// Both run only where a triple of finder patterns was found, so a frame
// without a code pays for them only when its background mimics one.
// Thorough goes further (see Decoder.Thorough).
//
// The zero value is ready to use. A Decoder holds no state between calls
// and may be used from several goroutines at once.
type Decoder struct {
	// Thorough makes Decode run the slowest passes too, after the
	// fall-backs, when the cheap passes saw a code but could not read it,
	// and read codes in strong perspective: triples of finder patterns as
	// distorted as a symbol tilted by 60°, triples gozxing's finder chose
	// but its detector could not sample, and the squashed copies when no
	// pass saw a code. A frame without a code costs three passes more than
	// without Thorough (a global threshold and the two squashed copies);
	// meant for files, where a missed code costs more than time.
	Thorough bool
}

// minSide is the smallest image side worth decoding: a version-1 code of
// 21 modules at 1 pixel per module.
const minSide = 21

// Decode returns the text of the QR code img shows. It returns an error
// wrapping [ErrNoCode] when it finds no code, one wrapping [ErrUnreadable]
// when it located a code but could not read it, and other errors for
// images it cannot process at all.
func (d *Decoder) Decode(img image.Image) (string, error) {
	if img == nil {
		return "", errors.New("decode: nil image")
	}
	b := img.Bounds()
	if b.Dx() < minSide || b.Dy() < minSide {
		return "", fmt.Errorf("decode: image %dx%d is too small: %w", b.Dx(), b.Dy(), ErrNoCode)
	}
	f := newFrame(toGray(img))
	f.persp = perspRetry
	if d.Thorough {
		f.persp = perspFull
	}
	return d.decodeFrame(f)
}

// prep names a preprocessed copy of the frame.
type prep int

const (
	prepOrig      prep = iota
	prepSmooth         // 3×3 binomial blur
	prepDown2          // 2×2 box average, half size
	prepStretch        // 1–99 % percentile stretch
	prepSharpen        // unsharp mask
	prepSmoothInv      // smoothed, inverted
	prepDown2Inv       // half size, inverted
	prepSquashX        // smoothed, width × squash
	prepSquashY        // smoothed, height × squash
	numPreps
)

// binarizer names how a grey image becomes black and white.
type binarizer int

const (
	binHybrid   binarizer = iota // gozxing's 8×8 block local threshold
	binGlobal                    // gozxing's global histogram valley
	binAdaptive                  // local mean over a window of ±radius
)

// pass is one attempt: a preprocessed copy, a binarizer, and whether the
// finder scans every third row (TRY_HARDER) instead of skipping rows by
// image height.
type pass struct {
	prep      prep
	bin       binarizer
	radius    int // of the binAdaptive window, in pixels of the full frame
	tryHarder bool
}

// cheapPasses run on every frame. Together they decode most codes and each
// costs about a binarization and a finder scan.
var cheapPasses = [...]pass{
	{prep: prepSmooth, bin: binHybrid},
	{prep: prepDown2, bin: binHybrid},
	{prep: prepSharpen, bin: binAdaptive, radius: 12},
	{prep: prepDown2Inv, bin: binHybrid},
}

// fallbackPasses run only when a cheap pass found three finder patterns
// that could frame a code: they mostly help blurred, noisy or
// low-contrast codes.
var fallbackPasses = [...]pass{
	{prep: prepOrig, bin: binHybrid},
	{prep: prepOrig, bin: binGlobal},
	{prep: prepSmoothInv, bin: binHybrid},
	{prep: prepSharpen, bin: binHybrid},
	{prep: prepOrig, bin: binAdaptive, radius: 20},
	{prep: prepSmooth, bin: binGlobal},
	{prep: prepStretch, bin: binHybrid},
	{prep: prepSmooth, bin: binAdaptive, radius: 10},
}

// probePass is the extra cheap pass of Decoder.Thorough when the cheap
// passes saw no code; it is also a fall-back.
var probePass = pass{prep: prepOrig, bin: binGlobal}

// squash is how much the squashed copies shrink one axis, and
// squashPasses look at them. gozxing takes a finder pattern only when its
// height is within 40 % of its width, which a pass tilted by more than
// about 45° away from the camera is not; squashing the longer axis
// brings it back. They run last, after the fall-backs (and with
// Decoder.Thorough the thorough passes), when a pass saw a code it could
// not read; with Decoder.Thorough also when no other pass saw a code.
const squash = 0.6

var squashPasses = [...]pass{
	{prep: prepSquashX, bin: binHybrid},
	{prep: prepSquashY, bin: binHybrid},
}

// thoroughPasses run after the fall-backs with Decoder.Thorough only.
var thoroughPasses = [...]pass{
	{prep: prepOrig, bin: binAdaptive, radius: 6},
	{prep: prepDown2, bin: binAdaptive, radius: 20},
	{prep: prepSmooth, bin: binHybrid, tryHarder: true},
	{prep: prepSmoothInv, bin: binAdaptive, radius: 12},
}

// frame is one decode call's grey image and its lazily built copies.
type frame struct {
	w, h int
	pix  [numPreps][]byte
	dec  *decoder.Decoder
	// persp is how far the passes go for codes seen in perspective.
	persp perspMode
}

// perspMode is how far decodeMatrix goes for a code seen in perspective.
type perspMode int

const (
	// perspOff tries the finder-pattern triples with gozxing's detector
	// only.
	perspOff perspMode = iota
	// perspRetry retries a triple that gozxing's detector could not read
	// with perspectiveRetry. It costs nothing on an image where no triple
	// is found, so the live path uses it.
	perspRetry
	// perspFull also lets rankTriples take triples as distorted as a
	// symbol tilted by up to 60° (Decoder.Thorough).
	perspFull
)

func newFrame(g *image.Gray) *frame {
	f := &frame{w: g.Rect.Dx(), h: g.Rect.Dy(), dec: decoder.NewDecoder()}
	f.pix[prepOrig] = g.Pix[:f.w*f.h]
	return f
}

// get returns the pixels and size of copy p, building it on first use.
func (f *frame) get(p prep) ([]byte, int, int) {
	w, h := f.w, f.h
	switch p {
	case prepDown2, prepDown2Inv:
		w, h = w/2, h/2
	case prepSquashX:
		w = int(float64(w) * squash)
	case prepSquashY:
		h = int(float64(h) * squash)
	}
	if f.pix[p] != nil {
		return f.pix[p], w, h
	}
	src := f.pix[prepOrig]
	var dst []byte
	switch p {
	case prepSmooth:
		dst = make([]byte, len(src))
		smooth(dst, src, f.w, f.h)
	case prepDown2:
		dst = make([]byte, w*h)
		downscale2(dst, src, f.w, f.h)
	case prepStretch:
		dst = make([]byte, len(src))
		stretch(dst, src)
	case prepSharpen:
		s, _, _ := f.get(prepSmooth)
		dst = make([]byte, len(src))
		sharpen(dst, src, s)
	case prepSmoothInv:
		s, _, _ := f.get(prepSmooth)
		dst = make([]byte, len(s))
		invert(dst, s)
	case prepDown2Inv:
		s, _, _ := f.get(prepDown2)
		dst = make([]byte, len(s))
		invert(dst, s)
	case prepSquashX, prepSquashY:
		s, _, _ := f.get(prepSmooth)
		dst = make([]byte, w*h)
		squashAxis(dst, s, f.w, f.h, w, h, p == prepSquashX)
	}
	f.pix[p] = dst
	return dst, w, h
}

// run makes one pass.
func (f *frame) run(p pass) matrixResult {
	pix, w, h := f.get(p.prep)
	if w < minSide || h < minSide {
		return matrixResult{err: gozxing.NewNotFoundException("image too small")}
	}
	var bm *gozxing.BitMatrix
	var err error
	src := newLumSource(pix, w, h)
	switch p.bin {
	case binHybrid:
		bm, err = gozxing.NewHybridBinarizer(src).GetBlackMatrix()
	case binGlobal:
		bm, err = gozxing.NewGlobalHistgramBinarizer(src).GetBlackMatrix()
	case binAdaptive:
		r := p.radius
		if p.prep == prepDown2 || p.prep == prepDown2Inv {
			r /= 2
		}
		bm = adaptiveThreshold(pix, w, h, max(r, 1))
	}
	if err != nil {
		return matrixResult{err: err}
	}
	return decodeMatrix(f.dec, bm, p.tryHarder, f.persp)
}

func (d *Decoder) decodeFrame(f *frame) (string, error) {
	var seen bool        // a plausible triple of finder patterns somewhere
	var unreadable error // the last failure after a code was located
	note := func(r matrixResult) {
		// With Thorough a triple gozxing's finder chose counts even when
		// its detector could not sample it: under perspective another
		// pass may.
		if r.sampled > 0 || (d.Thorough && r.framed) {
			seen = true
		}
		var ce gozxing.ChecksumException
		if errors.As(r.err, &ce) {
			unreadable = r.err
		}
	}
	for _, p := range cheapPasses {
		r := f.run(p)
		if r.text != "" {
			return r.text, nil
		}
		note(r)
	}
	probed := false
	if !seen && d.Thorough {
		// One more cheap look for Thorough: a global threshold finds
		// the finder patterns of some low-contrast, noisy codes that the
		// local thresholds above break up.
		probed = true
		r := f.run(probePass)
		if r.text != "" {
			return r.text, nil
		}
		note(r)
	}
	// And with Thorough, when still nothing looked like a code, the
	// squashed copies for a pass tilted far away from the camera.
	squashed := false
	if !seen && d.Thorough {
		squashed = true
		for _, p := range squashPasses {
			r := f.run(p)
			if r.text != "" {
				return r.text, nil
			}
			note(r)
		}
	}
	// The fall-backs (and with Thorough the slowest passes) only when a
	// cheap pass saw a code it could not read: a frame without a code
	// costs the cheap passes alone.
	if !seen {
		return "", fmt.Errorf("decode: %w", ErrNoCode)
	}
	for _, p := range fallbackPasses {
		if p == probePass && probed {
			continue // made above
		}
		r := f.run(p)
		if r.text != "" {
			return r.text, nil
		}
		note(r)
	}
	var more []pass
	if d.Thorough {
		more = thoroughPasses[:]
		if !squashed {
			more = append(more, squashPasses[:]...)
		}
	} else {
		// Live, the squashed copies come last too: only a frame where a
		// code was seen pays for them.
		more = squashPasses[:]
	}
	for _, p := range more {
		r := f.run(p)
		if r.text != "" {
			return r.text, nil
		}
		note(r)
	}
	if unreadable != nil {
		return "", fmt.Errorf("decode: %w: %v", ErrUnreadable, unreadable)
	}
	return "", fmt.Errorf("decode: %w", ErrNoCode)
}
