package camera

import (
	"math"
	"sort"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// maxTriples bounds how many finder-pattern triples one binarized image may
// cost a full grid sample and Reed-Solomon decode.
const maxTriples = 4

// tryHarderHints enables gozxing's TRY_HARDER. gozxing checks hints by key
// presence only (a false value would still enable it), so the map holds
// exactly the hints wanted and nil means none.
var tryHarderHints = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}

// matrixResult is what one binarized image gave.
type matrixResult struct {
	text    string
	centers int   // finder-pattern candidates seen
	sampled int   // finder-pattern triples sampled into a grid and decoded
	framed  bool  // gozxing's finder chose a triple (it may not have sampled it)
	err     error // the last detect or decode failure, nil with text
}

// decodeMatrix looks for QR finder patterns in bm and decodes the code they
// frame. Unlike gozxing's QRCodeReader, which gives up when its single best
// triple of finder patterns fails, it tries the few best triples, so a
// finder-like blob in the background does not hide the code. Unless persp
// is perspOff, a triple gozxing's detector cannot read is tried again with
// [perspectiveRetry]; with perspFull the triples ranked may be as
// distorted as a symbol tilted by up to 60° (see rankTriples).
func decodeMatrix(dec *decoder.Decoder, bm *gozxing.BitMatrix, tryHarder bool, persp perspMode) matrixResult {
	var hints map[gozxing.DecodeHintType]any
	if tryHarder {
		hints = tryHarderHints
	}
	f := detector.NewFinderPatternFinder(bm, nil)
	info, err := f.Find(hints)
	centers := f.GetPossibleCenters()
	res := matrixResult{centers: len(centers), err: err, framed: info != nil}
	if len(centers) < 3 {
		return res
	}
	tried := 0
	try := func(info *detector.FinderPatternInfo) bool {
		tried++
		det, err := detector.NewDetector(bm).ProcessFinderPatternInfo(info)
		if err == nil {
			res.sampled++
			var dr *common.DecoderResult
			if dr, err = dec.Decode(det.GetBits(), nil); err == nil {
				res.text, res.err = dr.GetText(), nil
				return true
			}
		}
		res.err = err
		if persp == perspOff {
			return false
		}
		text, n, err := perspectiveRetry(dec, bm, info)
		res.sampled += n
		if err != nil {
			if n > 0 {
				res.err = err
			}
			return false
		}
		res.text, res.err = text, nil
		return true
	}
	var first [3]*detector.FinderPattern
	if info != nil {
		first = [3]*detector.FinderPattern{info.GetBottomLeft(), info.GetTopLeft(), info.GetTopRight()}
		if try(info) {
			return res
		}
	}
	if len(centers) == 3 && info != nil {
		return res
	}
	for _, t := range rankTriples(centers, persp == perspFull) {
		if tried >= maxTriples {
			break
		}
		if sameTriple(t, first) {
			continue
		}
		bl, tl, tr := gozxing.ResultPoint_OrderBestPatterns(t[0], t[1], t[2])
		if try(detector.NewFinderPatternInfo(bl.(*detector.FinderPattern), tl.(*detector.FinderPattern), tr.(*detector.FinderPattern))) {
			return res
		}
	}
	return res
}

func sameTriple(t, u [3]*detector.FinderPattern) bool {
	n := 0
	for _, a := range t {
		for _, b := range u {
			if a == b {
				n++
			}
		}
	}
	return n == 3
}

// rankTriples returns triples of finder-pattern candidates that could frame
// one code (similar module sizes, centers at least 14 modules apart, a shape
// near an isosceles right triangle), best first. With perspective the
// module sizes may differ by a factor of 2 and the shape may be further
// from the isosceles right triangle, as a symbol tilted by up to 60° shows.
func rankTriples(cs []*detector.FinderPattern, perspective bool) [][3]*detector.FinderPattern {
	maxRatio, maxDist := 1.5, 0.5
	if perspective {
		maxRatio, maxDist = 2, 1
	}
	if len(cs) > 12 { // keep the most often confirmed candidates
		cs = append([]*detector.FinderPattern(nil), cs...)
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].GetCount() > cs[j].GetCount() })
		cs = cs[:12]
	}
	type scored struct {
		t [3]*detector.FinderPattern
		d float64
	}
	var out []scored
	for i := 0; i < len(cs); i++ {
		for j := i + 1; j < len(cs); j++ {
			for k := j + 1; k < len(cs); k++ {
				a, b, c := cs[i], cs[j], cs[k]
				ms := []float64{a.GetEstimatedModuleSize(), b.GetEstimatedModuleSize(), c.GetEstimatedModuleSize()}
				lo, hi := math.Min(ms[0], math.Min(ms[1], ms[2])), math.Max(ms[0], math.Max(ms[1], ms[2]))
				if hi > lo*maxRatio {
					continue
				}
				d := []float64{dist2(a, b), dist2(b, c), dist2(a, c)}
				sort.Float64s(d)
				mod := (ms[0] + ms[1] + ms[2]) / 3
				if d[0] < (14*mod)*(14*mod) {
					continue
				}
				// Legs equal and the hypotenuse √2 times a leg.
				dist := (math.Abs(d[2]-2*d[1]) + math.Abs(d[2]-2*d[0])) / d[2]
				if dist > maxDist {
					continue
				}
				out = append(out, scored{[3]*detector.FinderPattern{a, b, c}, dist})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].d < out[j].d })
	ts := make([][3]*detector.FinderPattern, len(out))
	for i, s := range out {
		ts[i] = s.t
	}
	return ts
}

func dist2(a, b *detector.FinderPattern) float64 {
	dx, dy := a.GetX()-b.GetX(), a.GetY()-b.GetY()
	return dx*dx + dy*dy
}
