package camera

import (
	"math"
	"sort"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// A pass shown on a phone tilted towards the camera is seen in
// perspective: the far side of the symbol is smaller than the near side.
// gozxing's detector then often fails on a triple of finder patterns that
// does frame a code, in two ways:
//
//   - it counts the modules between the finder patterns with one module
//     size for the whole symbol, so the dimension comes out a version off
//     (or as no valid dimension at all);
//   - it looks for the alignment pattern near the fourth corner of the
//     parallelogram the three finder patterns span, which under perspective
//     lies a few modules away from the real one, and takes the first
//     1:1:1 blob it finds there, often a cluster of data modules.
//
// perspectiveRetry reads such a code: it estimates the dimension from the
// finder patterns' own module sizes (for a segment seen in perspective,
// modules = length / √(module size at one end × module size at the
// other), exact for a projective map of a line), and finds the alignment
// pattern by matching its 5×5-module template at every pixel of a region
// around both the parallelogram's corner and a corner corrected for the
// finder patterns' differing sizes, trying the best few matches. Each
// candidate is a grid sample and a Reed–Solomon decode, which rejects the
// wrong ones.

// maxAlignTries bounds the alignment-pattern candidates tried per dimension.
const maxAlignTries = 3

// perspectiveRetry returns the text of the code framed by info in bm, or
// the last failure. sampled counts the grids it sampled.
func perspectiveRetry(dec *decoder.Decoder, bm *gozxing.BitMatrix, info *detector.FinderPatternInfo) (text string, sampled int, err error) {
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	stl, str, sbl := tl.GetEstimatedModuleSize(), tr.GetEstimatedModuleSize(), bl.GetEstimatedModuleSize()
	if stl <= 0 || str <= 0 || sbl <= 0 {
		return "", 0, gozxing.NewNotFoundException("no module size")
	}
	n1 := gozxing.ResultPoint_Distance(tl, tr) / math.Sqrt(stl*str)
	n2 := gozxing.ResultPoint_Distance(tl, bl) / math.Sqrt(stl*sbl)
	est := (n1+n2)/2 + 7
	err = gozxing.NewNotFoundException("no dimension near %.1f", est)
	for _, dim := range dimensions(est) {
		version, verr := decoder.Version_GetProvisionalVersionForDimension(dim)
		if verr != nil {
			continue
		}
		try := func(t *common.PerspectiveTransform) bool {
			bits, serr := detector.Detector_sampleGrid(bm, t, dim)
			if serr != nil {
				err = serr
				return false
			}
			sampled++
			r, derr := dec.Decode(bits, nil)
			if derr != nil {
				err = derr
				return false
			}
			text = r.GetText()
			return true
		}
		if len(version.GetAlignmentPatternCenters()) == 0 {
			if try(detector.Detector_createTransform(tl, tr, bl, nil, dim)) {
				return text, sampled, nil
			}
			continue
		}
		aps, mod := findAlignment(bm, tl, tr, bl, stl, str, sbl, dim)
		for i, ap := range aps {
			// The grid is sensitive to the alignment pattern's place to
			// about a third of a module: around the best match, try
			// the places a third of a module away too.
			offs := jitter[:1]
			if i == 0 {
				offs = jitter[:]
			}
			for _, o := range offs {
				p := detector.NewAlignmentPattern(ap.GetX()+o[0]*mod/3, ap.GetY()+o[1]*mod/3, mod)
				if try(detector.Detector_createTransform(tl, tr, bl, p, dim)) {
					return text, sampled, nil
				}
			}
		}
	}
	return "", sampled, err
}

// jitter is the order of the offsets tried around an alignment pattern.
var jitter = [...][2]float64{{0, 0}, {1, 0}, {0, 1}, {-1, 0}, {0, -1}, {1, 1}, {-1, 1}, {1, -1}, {-1, -1}}

// dimensions returns the two valid symbol dimensions (4k+1, 21–177)
// nearest est, nearest first.
func dimensions(est float64) []int {
	k := math.Round((est - 1) / 4)
	lo, hi := int(4*k+1), int(4*k+1)
	if est > float64(lo) {
		hi += 4
	} else {
		lo -= 4
	}
	if math.Abs(est-float64(hi)) < math.Abs(est-float64(lo)) {
		lo, hi = hi, lo
	}
	var out []int
	for _, d := range []int{lo, hi} {
		if d >= 21 && d <= 177 {
			out = append(out, d)
		}
	}
	return out
}

// findAlignment returns up to maxAlignTries likely centres of the
// bottom-right alignment pattern of a symbol of dimension dim whose
// finder patterns are tl, tr and bl (module sizes stl, str, sbl), best
// first, and the module size there.
func findAlignment(bm *gozxing.BitMatrix, tl, tr, bl gozxing.ResultPoint, stl, str, sbl float64, dim int) ([]*detector.AlignmentPattern, float64) {
	between := float64(dim - 7) // modules between finder-pattern centres
	f := (between - 3) / between
	// The parallelogram's corner, and one that lets the scale shrink
	// towards the smaller finder patterns: x(u, v) = (tl + u·A + v·B) /
	// (1 + a·u + b·v) with the scale along each edge falling as 1/w².
	wa, wb := math.Sqrt(stl/str), math.Sqrt(stl/sbl)
	var guesses [2][2]float64
	for i, w := range [2][2]float64{{1, 1}, {wa, wb}} {
		ax := tr.GetX()*w[0] - tl.GetX()
		ay := tr.GetY()*w[0] - tl.GetY()
		bx := bl.GetX()*w[1] - tl.GetX()
		by := bl.GetY()*w[1] - tl.GetY()
		den := 1 + f*(w[0]-1) + f*(w[1]-1)
		guesses[i] = [2]float64{(tl.GetX() + f*ax + f*bx) / den, (tl.GetY() + f*ay + f*by) / den}
	}
	// One module along each axis of the symbol, near the alignment pattern.
	ex := [2]float64{(tr.GetX() - tl.GetX()) / between, (tr.GetY() - tl.GetY()) / between}
	ey := [2]float64{(bl.GetX() - tl.GetX()) / between, (bl.GetY() - tl.GetY()) / between}
	mod := (math.Hypot(ex[0], ex[1]) + math.Hypot(ey[0], ey[1])) / 2
	if mod < 1 {
		return nil, 0
	}
	pad := 4 * mod
	x0 := int(math.Max(0, math.Min(guesses[0][0], guesses[1][0])-pad))
	x1 := int(math.Min(float64(bm.GetWidth()-1), math.Max(guesses[0][0], guesses[1][0])+pad))
	y0 := int(math.Max(0, math.Min(guesses[0][1], guesses[1][1])-pad))
	y1 := int(math.Min(float64(bm.GetHeight()-1), math.Max(guesses[0][1], guesses[1][1])+pad))
	if x1 <= x0 || y1 <= y0 {
		return nil, 0
	}
	w, h := x1-x0+1, y1-y0+1
	scores := make([]int8, w*h)
	best := 0
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			s := alignmentScore(bm, float64(x)+0.5, float64(y)+0.5, ex, ey)
			scores[(y-y0)*w+x-x0] = int8(s)
			best = max(best, s)
		}
	}
	// 25 modules; a real pattern seen through noise and blur matches
	// nearly all of them.
	const minScore = 21
	if best < minScore {
		return nil, 0
	}
	type peak struct {
		x, y  float64
		score int
	}
	var cands []peak
	for i, s := range scores {
		if int(s) >= minScore {
			cands = append(cands, peak{float64(x0 + i%w), float64(y0 + i/w), int(s)})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	var out []*detector.AlignmentPattern
	used := make([]bool, len(cands))
	for i, c := range cands {
		if used[i] || len(out) == maxAlignTries {
			continue
		}
		// The centroid of the positions as good as this one within a
		// module: a match is a plateau about a module wide.
		var sx, sy, n float64
		for j, d := range cands {
			if math.Hypot(d.x-c.x, d.y-c.y) > 2*mod {
				continue
			}
			used[j] = true
			if d.score == c.score && math.Hypot(d.x-c.x, d.y-c.y) <= mod {
				sx += d.x
				sy += d.y
				n++
			}
		}
		cx, cy := refineCentre(bm, sx/n+0.5, sy/n+0.5, mod)
		out = append(out, detector.NewAlignmentPattern(cx, cy, mod))
	}
	return out, mod
}

// refineCentre returns the centroid of the dark blob at (x, y), the
// alignment pattern's centre module, which its light ring isolates: the
// template's plateau is a module wide, this is within a fraction of a
// pixel. When the blob reaches further than 1.5 modules from (x, y) (the
// ring is broken) it returns (x, y).
func refineCentre(bm *gozxing.BitMatrix, x, y, mod float64) (float64, float64) {
	sx, sy := int(x), int(y)
	if sx < 0 || sy < 0 || sx >= bm.GetWidth() || sy >= bm.GetHeight() || !bm.Get(sx, sy) {
		return x, y
	}
	lim := 1.5 * mod
	seen := map[[2]int]bool{{sx, sy}: true}
	stack := [][2]int{{sx, sy}}
	var cx, cy, n float64
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if math.Hypot(float64(p[0])+0.5-x, float64(p[1])+0.5-y) > lim {
			return x, y
		}
		cx += float64(p[0]) + 0.5
		cy += float64(p[1]) + 0.5
		n++
		for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			q := [2]int{p[0] + d[0], p[1] + d[1]}
			if q[0] < 0 || q[1] < 0 || q[0] >= bm.GetWidth() || q[1] >= bm.GetHeight() || seen[q] || !bm.Get(q[0], q[1]) {
				continue
			}
			seen[q] = true
			stack = append(stack, q)
		}
	}
	return cx / n, cy / n
}

// alignmentScore counts the modules of an alignment pattern centred at
// (x, y) that bm matches: dark centre, light ring, dark outer ring, with
// ex and ey one module along the symbol's axes.
func alignmentScore(bm *gozxing.BitMatrix, x, y float64, ex, ey [2]float64) int {
	s := 0
	for j := -2; j <= 2; j++ {
		for i := -2; i <= 2; i++ {
			px := int(x + float64(i)*ex[0] + float64(j)*ey[0])
			py := int(y + float64(i)*ex[1] + float64(j)*ey[1])
			if px < 0 || py < 0 || px >= bm.GetWidth() || py >= bm.GetHeight() {
				continue
			}
			dark := max(abs(i), abs(j)) != 1
			if bm.Get(px, py) == dark {
				s++
			}
		}
	}
	return s
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
