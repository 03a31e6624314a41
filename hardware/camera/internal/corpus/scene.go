package corpus

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// The camera of the kiosk classes ([Tilt] and after): a pinhole camera of
// 640×480 pixels with a 60° horizontal field of view, the usual USB
// webcam, so a focal length of 320/tan 30° ≈ 554 px and the principal
// point at the frame's centre.
const (
	focalPx  = 554.0
	centreX  = Width / 2.0
	centreY  = Height / 2.0
	symbolMM = 40.0 // a pass's symbol on a phone or a card, Small's width
)

// presented draws the symbol width (mm) and distance to the camera (mm) of
// a pass held up to the kiosk: a symbol 30–50 mm wide (a card's print or
// a phone's pass screen) at 10–20 cm, which the camera sees 83–277 px wide
// (2.2–7.5 px a module for the corpus's 37-module symbols).
func presented(r *rand.Rand) (sizeMM, distMM float64) {
	return 30 + r.Float64()*20, 100 + r.Float64()*100
}

// severity returns where frame i of class ci lies in its class's range of
// its main parameter, 0 (mildest) to 1 (harshest): an additive golden-ratio
// sequence from a seed-chosen start, so that any first n frames of a class
// spread evenly over the range and frame i still depends on seed, class
// and i alone.
func severity(seed uint64, ci, i int) float64 {
	start := rand.New(rand.NewPCG(seed^0x5e7e41175e7e4117, uint64(ci))).Float64()
	_, f := math.Modf(start + float64(i)*0.6180339887498949)
	return f
}

// pose places the code's plane in front of the camera: h maps a point of
// the plane, in mm from the symbol's centre, to homogeneous pixel
// coordinates; inv is its inverse.
type pose struct{ h, inv [9]float64 }

// newPose returns the pose of a plane whose origin is seen at pixel
// (cx, cy), distMM from the camera, turned by roll radians in its own
// plane, then tilted by tilt radians about an axis in the image plane at
// azimuth radians from the x axis.
func newPose(cx, cy, distMM, tilt, azimuth, roll float64) pose {
	// R = rotation about n = (cos a, sin a, 0) by tilt, times Rz(roll).
	nx, ny := math.Cos(azimuth), math.Sin(azimuth)
	c, s := math.Cos(tilt), math.Sin(tilt)
	rt := [9]float64{
		c + nx*nx*(1-c), nx * ny * (1 - c), ny * s,
		nx * ny * (1 - c), c + ny*ny*(1-c), -nx * s,
		-ny * s, nx * s, c,
	}
	cr, sr := math.Cos(roll), math.Sin(roll)
	rz := [9]float64{cr, -sr, 0, sr, cr, 0, 0, 0, 1}
	r := mul3(rt, rz)
	t := [3]float64{(cx - centreX) / focalPx * distMM, (cy - centreY) / focalPx * distMM, distMM}
	// [r1 r2 t], then K.
	m := [9]float64{r[0], r[1], t[0], r[3], r[4], t[1], r[6], r[7], t[2]}
	k := [9]float64{focalPx, 0, centreX, 0, focalPx, centreY, 0, 0, 1}
	h := mul3(k, m)
	return pose{h: h, inv: inv3(h)}
}

func mul3(a, b [9]float64) [9]float64 {
	var o [9]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				o[i*3+j] += a[i*3+k] * b[k*3+j]
			}
		}
	}
	return o
}

func inv3(m [9]float64) [9]float64 {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	A, B, C := e*i-f*h, -(d*i - f*g), d*h-e*g
	det := a*A + b*B + c*C
	return [9]float64{
		A / det, -(b*i - c*h) / det, (b*f - c*e) / det,
		B / det, (a*i - c*g) / det, -(a*f - c*d) / det,
		C / det, -(a*h - b*g) / det, (a*e - b*d) / det,
	}
}

// project returns the pixel where plane point (x, y) mm is seen.
func (ps *pose) project(x, y float64) (float64, float64) {
	h := &ps.h
	w := h[6]*x + h[7]*y + h[8]
	return (h[0]*x + h[1]*y + h[2]) / w, (h[3]*x + h[4]*y + h[5]) / w
}

// unproject returns the plane point seen at pixel (px, py), and false
// when that pixel's ray meets the plane behind the camera (beyond the
// plane's horizon).
func (ps *pose) unproject(px, py float64) (float64, float64, bool) {
	m := &ps.inv
	w := m[6]*px + m[7]*py + m[8]
	if w <= 0 {
		return 0, 0, false
	}
	return (m[0]*px + m[1]*py + m[2]) / w, (m[3]*px + m[4]*py + m[5]) / w, true
}

// inside reports whether the square of half-width half mm around the
// plane's origin is seen wholly inside the frame, in front of the camera.
func (ps *pose) inside(half float64) bool {
	for _, c := range [4][2]float64{{-half, -half}, {half, -half}, {half, half}, {-half, half}} {
		h := &ps.h
		if h[6]*c[0]+h[7]*c[1]+h[8] <= 0 {
			return false
		}
		x, y := ps.project(c[0], c[1])
		if x < 0 || y < 0 || x >= Width || y >= Height {
			return false
		}
	}
	return true
}

// bbox returns the pixel rectangle, clipped to the frame, that holds the
// square of half-width half mm around the plane's origin, grown by pad px.
func (ps *pose) bbox(half, pad float64) image.Rectangle {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]float64{{-half, -half}, {half, -half}, {half, half}, {-half, half}} {
		x, y := ps.project(c[0], c[1])
		x0, y0, x1, y1 = math.Min(x0, x), math.Min(y0, y), math.Max(x1, x), math.Max(y1, y)
	}
	r := image.Rect(int(math.Floor(x0-pad)), int(math.Floor(y0-pad)), int(math.Ceil(x1+pad))+1, int(math.Ceil(y1+pad))+1)
	return r.Intersect(image.Rect(0, 0, Width, Height))
}

// place returns a pose for a symbol of half-width halfMM (mm) at distMM
// with the given tilt, azimuth and roll, seen at a random place where the
// symbol and 2 modules (of modMM) around it stay inside the frame. When
// no place fits after a few tries the symbol moves 10 % farther away; the
// distance used is returned.
func place(r *rand.Rand, halfMM, modMM, distMM, tilt, azimuth, roll float64) (pose, float64) {
	for try := 1; ; try++ {
		ps := newPose(r.Float64()*Width, r.Float64()*Height, distMM, tilt, azimuth, roll)
		if ps.inside(halfMM + 2*modMM) {
			return ps, distMM
		}
		if try%16 == 0 {
			distMM *= 1.1
		}
	}
}

// encodeQR returns the modules of text's QR code, error correction M,
// without a quiet zone.
func encodeQR(text string) (*gozxing.BitMatrix, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: "M",
		gozxing.EncodeHintType_MARGIN:           0,
	}
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		return nil, fmt.Errorf("encode QR: %w", err)
	}
	return m, nil
}

// layer is what lies on the pass's plane (the card or screen, and what
// covers it) before it is laid over the background: v is the luminance
// times the coverage a, both per pixel of the frame.
type layer struct {
	v, a []float32
	box  image.Rectangle // where a may be non-zero
}

func newLayer() *layer {
	return &layer{v: make([]float32, Width*Height), a: make([]float32, Width*Height)}
}

// drawCard renders the symbol m (modules of modMM mm) on a card of paper
// luminance with a 4-module quiet zone, ink for dark modules, as the
// camera sees it in pose ps, supersampled 3×3 per pixel.
func (l *layer) drawCard(ps *pose, m *gozxing.BitMatrix, modMM, paper, ink float64) {
	const quiet, ss = 4.0, 3
	dim := float64(m.GetWidth())
	half := (dim/2 + quiet) * modMM
	box := ps.bbox(half, 2)
	l.box = l.box.Union(box)
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			var sum float64
			var on int
			for sy := range ss {
				for sx := range ss {
					px := float64(x) + (float64(sx)+0.5)/ss
					py := float64(y) + (float64(sy)+0.5)/ss
					X, Y, ok := ps.unproject(px, py)
					if !ok || math.Abs(X) >= half || math.Abs(Y) >= half {
						continue
					}
					on++
					u, v := X/modMM+dim/2, Y/modMM+dim/2
					if u >= 0 && v >= 0 && u < dim && v < dim && m.Get(int(u), int(v)) {
						sum += ink
					} else {
						sum += paper
					}
				}
			}
			if on > 0 {
				i := y*Width + x
				l.v[i] = float32(sum / (ss * ss))
				l.a[i] = float32(on) / (ss * ss)
			}
		}
	}
}

// over lays l over p.
func (l *layer) over(p *plane) {
	for y := l.box.Min.Y; y < l.box.Max.Y; y++ {
		for x := l.box.Min.X; x < l.box.Max.X; x++ {
			i := y*Width + x
			p.v[i] = p.v[i]*(1-l.a[i]) + l.v[i]
		}
	}
}

// motionBlur smears l along a straight path of length px pixels in
// direction angle (radians): the pass moving during the exposure while
// the camera and the background stand still.
func (l *layer) motionBlur(length, angle float64) {
	if length < 0.5 {
		return
	}
	n := int(math.Ceil(2*length)) + 1
	dx, dy := math.Cos(angle), math.Sin(angle)
	pad := int(math.Ceil(length/2)) + 1
	box := l.box.Inset(-pad).Intersect(image.Rect(0, 0, Width, Height))
	v, a := make([]float32, len(l.v)), make([]float32, len(l.a))
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			var sv, sa float32
			for k := range n {
				t := (float64(k)/float64(n-1) - 0.5) * length
				bv, ba := l.sample(float64(x)+t*dx, float64(y)+t*dy)
				sv += bv
				sa += ba
			}
			i := y*Width + x
			v[i], a[i] = sv/float32(n), sa/float32(n)
		}
	}
	l.v, l.a, l.box = v, a, box
}

// sample interpolates l bilinearly at (x, y); outside the frame it is empty.
func (l *layer) sample(x, y float64) (float32, float32) {
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	var v, a float32
	for _, c := range [4]struct {
		x, y int
		w    float32
	}{{x0, y0, (1 - fx) * (1 - fy)}, {x0 + 1, y0, fx * (1 - fy)}, {x0, y0 + 1, (1 - fx) * fy}, {x0 + 1, y0 + 1, fx * fy}} {
		if c.x < 0 || c.y < 0 || c.x >= Width || c.y >= Height {
			continue
		}
		i := c.y*Width + c.x
		v += c.w * l.v[i]
		a += c.w * l.a[i]
	}
	return v, a
}

// finger lays a finger over l: a capsule of width widthMM on the pass's
// plane, coming from direction dir (radians, in the plane) from outside
// the frame, its tip tipMM from the symbol's centre and its axis offset
// sideways by offMM, lit like skin (luminance skin on its ridge, darker
// towards its sides, as a cylinder).
func (l *layer) finger(ps *pose, widthMM, dir, tipMM, offMM, skin float64) {
	const ss = 2
	rad := widthMM / 2
	dx, dy := math.Cos(dir), math.Sin(dir)
	// Centre of the tip's round end.
	cx := dx*(tipMM+rad) - dy*offMM
	cy := dy*(tipMM+rad) + dx*offMM
	box := image.Rectangle{}
	for y := range Height {
		for x := range Width {
			var cov, sum float64
			for sy := range ss {
				for sx := range ss {
					X, Y, ok := ps.unproject(float64(x)+(float64(sx)+0.5)/ss, float64(y)+(float64(sy)+0.5)/ss)
					if !ok {
						continue
					}
					qx, qy := X-cx, Y-cy
					t := qx*dx + qy*dy // along the axis, outwards
					var d float64
					if t < 0 {
						d = math.Hypot(qx, qy)
					} else {
						d = math.Abs(-qx*dy + qy*dx)
					}
					if d >= rad {
						continue
					}
					cov++
					sum += skin * (0.55 + 0.45*math.Sqrt(1-(d/rad)*(d/rad)))
				}
			}
			if cov == 0 {
				continue
			}
			c := float32(cov / (ss * ss))
			i := y*Width + x
			l.v[i] = l.v[i]*(1-c) + float32(sum/(ss*ss))
			l.a[i] = l.a[i]*(1-c) + c
			box = box.Union(image.Rect(x, y, x+1, y+1))
		}
	}
	l.box = l.box.Union(box)
}

// screen modulates what l shows by a phone screen's artefacts as a camera
// sees them: horizontal dark bands of a PWM-dimmed screen caught by a
// rolling shutter (period bandPx rows, dark for duty of each period,
// dimmed by depth there, with soft edges of a fifth of a period), times
// moiré fringes between the screen's pixel grid and the sensor's (period
// moirePx pixels at angle moireAngle radians, amplitude moireAmp).
func (l *layer) screen(r *rand.Rand, bandPx, duty, depth, moirePx, moireAngle, moireAmp float64) {
	phase := r.Float64()
	mph := r.Float64() * 2 * math.Pi
	kx := 2 * math.Pi * math.Cos(moireAngle) / moirePx
	ky := 2 * math.Pi * math.Sin(moireAngle) / moirePx
	edge := 0.2
	for y := l.box.Min.Y; y < l.box.Max.Y; y++ {
		_, ph := math.Modf(float64(y)/bandPx + phase)
		// Darkness 0..1: 1 inside [0, duty), ramps of width edge around.
		dark := 0.0
		switch {
		case ph < duty:
			dark = 1
		case ph < duty+edge/2:
			dark = 1 - (ph-duty)/(edge/2)
		case ph > 1-edge/2:
			dark = (ph - (1 - edge/2)) / (edge / 2)
		}
		band := 1 - depth*dark
		for x := l.box.Min.X; x < l.box.Max.X; x++ {
			i := y*Width + x
			if l.a[i] == 0 {
				continue
			}
			moire := 1 - moireAmp*(0.5+0.5*math.Cos(kx*float64(x)+ky*float64(y)+mph))
			l.v[i] *= float32(band * moire)
		}
	}
}

// glare adds the specular reflection of a lamp in the pass's glass or
// laminate: an elliptical Gaussian of peak peak grey levels centred at
// (cx, cy), semi-axes sa, sb px (standard deviations) at angle th. Where
// it adds more than the paper's 255 the frame saturates.
func (p *plane) glare(cx, cy, sa, sb, th, peak float64) {
	c, s := math.Cos(th), math.Sin(th)
	ext := 4 * math.Max(sa, sb)
	for y := max(0, int(cy-ext)); y < min(p.h, int(cy+ext)+1); y++ {
		for x := max(0, int(cx-ext)); x < min(p.w, int(cx+ext)+1); x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			u, v := (dx*c+dy*s)/sa, (-dx*s+dy*c)/sb
			p.v[y*p.w+x] += float32(peak * math.Exp(-(u*u+v*v)/2))
		}
	}
}

// Low light: the camera at its longest exposure and highest gain, where
// white paper no longer fills the range: the image is the scene's linear
// light times exposure (the fraction of full scale white reaches) with the
// sensor's noise. The frame is taken as sRGB-like encoded (gamma 2.2): it
// is linearised, scaled, given photon shot noise (variance = signal, at
// one grey level of the linear 8-bit scale per electron) and read noise,
// and encoded again.
const (
	darkGamma = 2.2
	readNoise = 2.0 // electrons (grey levels of the linear scale)
)

func (p *plane) lowLight(r *rand.Rand, exposure float64) {
	for i, v := range p.v {
		lin := 255 * math.Pow(math.Max(0, float64(v))/255, darkGamma) * exposure
		lin += r.NormFloat64() * math.Sqrt(lin+readNoise*readNoise)
		p.v[i] = float32(255 * math.Pow(math.Max(0, lin)/255, 1/darkGamma))
	}
}

// jpegRoundTrip returns g after JPEG compression at quality q (the IJG
// scale of image/jpeg and of webcams' MJPEG encoders) and decompression.
func jpegRoundTrip(g *image.Gray, q int) (*image.Gray, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, g, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("jpeg: %w", err)
	}
	img, err := jpeg.Decode(&b)
	if err != nil {
		return nil, fmt.Errorf("jpeg: %w", err)
	}
	out, ok := img.(*image.Gray)
	if !ok {
		return nil, fmt.Errorf("jpeg: decoded %T, want *image.Gray", img)
	}
	return out, nil
}

// kioskFrame makes frame f (of a kiosk class: Tilt and after) at severity
// sev.
func kioskFrame(f *Frame, r *rand.Rand, sev float64) error {
	p := newPlane(Width, Height)
	background(p, r)
	f.Text = PassText(r)
	m, err := encodeQR(f.Text)
	if err != nil {
		return err
	}
	dim := float64(m.GetWidth())
	f.Severity = sev
	f.SizeMM, f.DistanceMM = presented(r)
	roll := r.Float64() * 2 * math.Pi
	var tilt, azimuth float64
	f.BlurSigma, f.NoiseSigma = 0.5, 3 // the webcam's optics and sensor
	switch f.Class {
	case Tilt:
		f.Tilt = 20 + 40*sev
		tilt, azimuth = f.Tilt*math.Pi/180, r.Float64()*math.Pi
	case Small:
		f.SizeMM = symbolMM
		f.DistanceMM = 200 + 300*sev
		f.BlurSigma = 0.6
	}
	modMM := f.SizeMM / dim
	ps, dist := place(r, f.SizeMM/2, modMM, f.DistanceMM, tilt, azimuth, roll)
	f.DistanceMM = dist
	f.ModulePx = modMM * focalPx / dist
	f.CodeWidth = int(math.Round(f.ModulePx * dim))
	f.Angle = math.Mod(roll*180/math.Pi, 360)
	paper := 225 + r.Float64()*30
	ink := 15 + r.Float64()*30
	l := newLayer()
	l.drawCard(&ps, m, modMM, paper, ink)
	switch f.Class {
	case Motion:
		f.MotionPx = 3 + 9*sev
		l.motionBlur(f.MotionPx, r.Float64()*2*math.Pi)
	case Finger:
		f.FingerDepth = 0.45 * sev
		width := 14 + r.Float64()*6
		off := (r.Float64() - 0.5) * 0.6 * f.SizeMM
		skin := paper * (0.35 + r.Float64()*0.2)
		l.finger(&ps, width, r.Float64()*2*math.Pi, f.SizeMM*(0.5-f.FingerDepth), off, skin)
	case Screen:
		f.BandDepth = 0.2 + 0.7*sev
		f.MoireAmp = 0.05 + 0.25*r.Float64()
		bandPx := 130 + r.Float64()*130
		duty := 0.3 + r.Float64()*0.3
		l.screen(r, bandPx, duty, f.BandDepth, 3+r.Float64()*9, r.Float64()*math.Pi, f.MoireAmp)
	}
	l.over(p)
	lighting(p, r, false)
	if f.Class == Glare {
		f.GlareArea = 0.02 + 0.33*sev
		// The saturated core (where even ink gets 240 more) covers
		// GlareArea of the symbol; the halo around it washes out more.
		const peak = 800.0
		rho := math.Sqrt(2 * math.Log(peak/240))
		aspect := 1 + 2*r.Float64()
		area := f.GlareArea * float64(f.CodeWidth*f.CodeWidth)
		cb := math.Sqrt(area / (math.Pi * aspect))
		half := f.SizeMM / 2
		cx, cy := ps.project((r.Float64()*2-1)*half, (r.Float64()*2-1)*half)
		p.glare(cx, cy, aspect*cb/rho, cb/rho, r.Float64()*math.Pi, peak)
	}
	p.blur(f.BlurSigma)
	switch f.Class {
	case LowLight:
		// White at 25 % down to 1 % of full scale, log-uniform (light
		// levels spread over ratios): 64 down to 2.5 electrons.
		f.Exposure = 0.25 * math.Pow(0.04, sev)
		f.NoiseSigma = 0
		p.lowLight(r, f.Exposure)
	case JPEG:
		f.NoiseSigma = 4
		p.noise(r, f.NoiseSigma)
	default:
		p.noise(r, f.NoiseSigma)
	}
	f.Image = p.gray()
	if f.Class == JPEG {
		f.JPEGQuality = int(math.Round(60 - 30*sev))
		g, err := jpegRoundTrip(f.Image, f.JPEGQuality)
		if err != nil {
			return err
		}
		f.Image = g
	}
	return nil
}
