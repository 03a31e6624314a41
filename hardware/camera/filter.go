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

// squashAxis resamples the w×h image src into dst of dw×dh, shrinking
// the x axis (alongX) or the y axis by linear interpolation; the other
// axis keeps its size.
func squashAxis(dst, src []byte, w, h, dw, dh int, alongX bool) {
	n, dn := h, dh
	if alongX {
		n, dn = w, dw
	}
	// For each destination index along the axis: source index and weight.
	idx := make([]int, dn)
	wt := make([]uint32, dn) // weight of idx+1, of 256
	for i := range dn {
		x := (float64(i)+0.5)*float64(n)/float64(dn) - 0.5
		j := int(x)
		if j >= n-1 {
			j = n - 2
		}
		idx[i] = j
		wt[i] = uint32(min(max((x-float64(j))*256, 0), 256))
	}
	if alongX {
		for y := range h {
			row := src[y*w : (y+1)*w]
			d := dst[y*dw : (y+1)*dw]
			for i := range d {
				j, a := idx[i], wt[i]
				d[i] = byte((uint32(row[j])*(256-a) + uint32(row[j+1])*a + 128) >> 8)
			}
		}
		return
	}
	for i := range dh {
		j, a := idx[i], wt[i]
		r0, r1 := src[j*w:(j+1)*w], src[(j+1)*w:(j+2)*w]
		d := dst[i*w : (i+1)*w]
		for x := range d {
			d[x] = byte((uint32(r0[x])*(256-a) + uint32(r1[x])*a + 128) >> 8)
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

// sharpen applies an unsharp mask, v + (v - smoothed v), which restores
// some edge contrast lost to focus blur. smoothed is src after smooth.
func sharpen(dst, src, smoothed []byte) {
	smoothed = smoothed[:len(src)]
	for i, v := range src {
		s := 2*int(v) - int(smoothed[i])
		dst[i] = byte(min(max(s, 0), 255))
	}
}

// adaptiveThreshold binarizes src by comparing each pixel with the mean of
// the (2r+1)² window around it (clipped at the borders), minus a small
// offset that keeps flat areas white. With a window of a few modules it
// follows uneven light and keeps blurred modules apart better than
// gozxing's 8×8 block threshold. Window sums slide in both directions, so
// the cost does not depend on r.
func adaptiveThreshold(src []byte, w, h, r int) *gozxing.BitMatrix {
	bm, _ := gozxing.NewBitMatrix(w, h)
	bits := gozxing.NewBitArray(w)
	col := make([]uint32, w) // column sums over the window's rows
	y1 := min(r+1, h)        // rows [y0, y1) are in col
	for y := range y1 {
		for x, v := range src[y*w : (y+1)*w] {
			col[x] += uint32(v)
		}
	}
	y0 := 0
	for y := range h {
		if lo := y - r; lo > y0 { // drop row y0
			for x, v := range src[y0*w : (y0+1)*w] {
				col[x] -= uint32(v)
			}
			y0 = lo
		}
		if hi := min(y+r+1, h); hi > y1 { // add row y1
			for x, v := range src[y1*w : (y1+1)*w] {
				col[x] += uint32(v)
			}
			y1 = hi
		}
		rows := uint32(y1 - y0)
		var sum uint32
		x1 := min(r+1, w)
		for x := range x1 {
			sum += col[x]
		}
		x0 := 0
		row := src[y*w : (y+1)*w]
		bits.Clear()
		var word uint32
		for x, v := range row {
			if x > r {
				sum -= col[x0]
				x0++
			}
			if x > 0 && x1 < w {
				sum += col[x1]
				x1++
			}
			n := rows * uint32(x1-x0)
			// Black if v < mean - 2, that is (v+2)·n < sum: the sign bit
			// of the difference, without a branch the CPU mispredicts.
			d := int32((uint32(v)+2)*n) - int32(sum)
			word |= uint32(d) >> 31 << (x & 31)
			if x&31 == 31 {
				bits.SetBulk(x&^31, word)
				word = 0
			}
		}
		if w&31 != 0 {
			bits.SetBulk(w&^31, word)
		}
		bm.SetRow(y, bits)
	}
	return bm
}
