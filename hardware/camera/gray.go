package camera

import (
	"image"
	"image/draw"

	"github.com/makiuchi-d/gozxing"
)

// toGray returns img as a grey image whose Pix holds exactly Dx×Dy bytes
// (stride = width, origin 0,0). It shares the pixels of an *image.Gray that
// is already laid out that way and copies the Y plane of an *image.YCbCr
// (what image/jpeg returns for camera frames) without any colour math.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.Gray:
		if m.Stride == w && b.Min == (image.Point{}) {
			return m
		}
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			copy(g.Pix[y*w:(y+1)*w], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		return g
	case *image.YCbCr:
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			copy(g.Pix[y*w:(y+1)*w], m.Y[m.YOffset(b.Min.X, b.Min.Y+y):])
		}
		return g
	case *image.RGBA:
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			dst := g.Pix[y*w : (y+1)*w]
			for x := range dst {
				r, gg, bb := uint32(src[4*x]), uint32(src[4*x+1]), uint32(src[4*x+2])
				dst[x] = uint8((19595*r + 38470*gg + 7471*bb + 1<<15) >> 16)
			}
		}
		return g
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(g, g.Rect, img, b.Min, draw.Src) // color.GrayModel per pixel
	return g
}

// lumSource is a gozxing.LuminanceSource over a packed grey buffer, so
// binarizers read the bytes directly instead of converting pixel by pixel.
type lumSource struct {
	gozxing.LuminanceSourceBase
	pix []byte
}

var _ gozxing.LuminanceSource = (*lumSource)(nil)

func newLumSource(pix []byte, w, h int) *lumSource {
	return &lumSource{gozxing.LuminanceSourceBase{Width: w, Height: h}, pix}
}

func (s *lumSource) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= s.Height {
		return nil, gozxing.NewNotFoundException("row %d out of range", y)
	}
	if cap(row) < s.Width {
		row = make([]byte, s.Width)
	}
	row = row[:s.Width]
	copy(row, s.pix[y*s.Width:])
	return row, nil
}

func (s *lumSource) GetMatrix() []byte { return s.pix }

func (s *lumSource) Invert() gozxing.LuminanceSource {
	return gozxing.LuminanceSourceInvert(s)
}

func (s *lumSource) String() string { return gozxing.LuminanceSourceString(s) }
