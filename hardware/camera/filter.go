package camera

import "github.com/makiuchi-d/gozxing"

// The filters below work on packed grey buffers (stride = width) and write
// into dst, which must hold len(src) bytes (half that for downscale2).

// stretch maps the 1st..99th percentile of src linearly onto 0..255, so a
// low-contrast frame clears the binarizers' minimum dynamic range.
func stretch(dst, src []byte) {
	var hist [256]int
	for _, v := range src {
		hist[v]++
	}
	cut := len(src) / 100
	lo, hi := 0, 255
	for n := 0; lo < 255; lo++ {
		if n += hist[lo]; n > cut {
			break
		}
	}
	for n := 0; hi > 0; hi-- {
		if n += hist[hi]; n > cut {
			break
		}
	}
	if hi <= lo {
		copy(dst, src)
		return
	}
	var lut [256]byte
	for v := range lut {
		s := (v - lo) * 255 / (hi - lo)
		lut[v] = byte(min(max(s, 0), 255))
	}
	for i, v := range src {
		dst[i] = lut[v]
	}
}

// invert writes 255-v: gozxing reads only dark-on-light codes.
func invert(dst, src []byte) {
	for i, v := range src {
		dst[i] = 255 - v
	}
}

// downscale2 averages 2×2 blocks of a w×h image into dst (w/2 × h/2).
func downscale2(dst, src []byte, w, h int) {
	hw, hh := w/2, h/2
	for y := range hh {
		r0 := src[2*y*w:]
		r1 := src[(2*y+1)*w:]
		d := dst[y*hw : (y+1)*hw]
		for x := range d {
			d[x] = byte((int(r0[2*x]) + int(r0[2*x+1]) + int(r1[2*x]) + int(r1[2*x+1]) + 2) >> 2)
		}
	}
}

// smooth applies a 3×3 binomial blur (1 2 1), which removes pixel noise and
// costs a module size of less than a pixel.
func smooth(dst, src []byte, w, h int) {
	tmp := make([]uint16, len(src))
	for y := range h {
		row := src[y*w : (y+1)*w]
		t := tmp[y*w : (y+1)*w]
		t[0] = uint16(row[0])*3 + uint16(row[1])
		for x := 1; x < w-1; x++ {
			t[x] = uint16(row[x-1]) + 2*uint16(row[x]) + uint16(row[x+1])
		}
		t[w-1] = uint16(row[w-2]) + uint16(row[w-1])*3
	}
	for y := range h {
		up, dn := max(y-1, 0), min(y+1, h-1)
		a, b, c := tmp[up*w:], tmp[y*w:], tmp[dn*w:]
		d := dst[y*w : (y+1)*w]
		for x := range d {
			d[x] = byte((uint32(a[x]) + 2*uint32(b[x]) + uint32(c[x]) + 8) >> 4)
		}
	}
}

// sharpen applies an unsharp mask (v + (v - blur(v))) that restores some
// edge contrast lost to focus blur.
func sharpen(dst, src []byte, w, h int) {
	smooth(dst, src, w, h)
	for i, v := range src {
		s := 2*int(v) - int(dst[i])
		dst[i] = byte(min(max(s, 0), 255))
	}
}

// adaptiveThreshold binarizes src by comparing each pixel with the mean of
// the (2r+1)² window around it, minus a small offset that keeps flat areas
// white. With a window of a few modules it follows uneven light and keeps
// blurred modules apart better than gozxing's 8×8 block threshold.
func adaptiveThreshold(src []byte, w, h, r int) *gozxing.BitMatrix {
	// Integral image with a zero row and column.
	iw := w + 1
	integ := make([]uint32, iw*(h+1))
	for y := range h {
		var rowSum uint32
		row := src[y*w : (y+1)*w]
		cur := integ[(y+1)*iw:]
		prev := integ[y*iw:]
		for x, v := range row {
			rowSum += uint32(v)
			cur[x+1] = prev[x+1] + rowSum
		}
	}
	bm, _ := gozxing.NewBitMatrix(w, h)
	for y := range h {
		y0, y1 := max(y-r, 0), min(y+r+1, h)
		top, bot := integ[y0*iw:], integ[y1*iw:]
		row := src[y*w : (y+1)*w]
		for x, v := range row {
			x0, x1 := max(x-r, 0), min(x+r+1, w)
			sum := bot[x1] - bot[x0] - top[x1] + top[x0]
			n := uint32((x1 - x0) * (y1 - y0))
			// v < mean - 2, in integers: v*n + 2n < sum.
			if uint32(v)*n+2*n < sum {
				bm.Set(x, y)
			}
		}
	}
	return bm
}
