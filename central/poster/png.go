package poster

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// DPI is the resolution of PNG: 1240 × 1754 pixels for A4.
const DPI = 150

var (
	parseOnce sync.Once
	parsed    *opentype.Font
	parseErr  error
)

// face returns the poster font at pt points and DPI.
func face(pt float64) (font.Face, error) {
	parseOnce.Do(func() { parsed, parseErr = opentype.Parse(fontTTF) })
	if parseErr != nil {
		return nil, fmt.Errorf("poster font: %w", parseErr)
	}
	return opentype.NewFace(parsed, &opentype.FaceOptions{Size: pt, DPI: DPI, Hinting: font.HintingNone})
}

// px converts millimetres to pixels at DPI.
func px(mm float64) int { return int(mm/25.4*DPI + 0.5) }

// PNG writes p as an A4 grayscale PNG at DPI.
func PNG(w io.Writer, p Poster) error {
	img, err := Image(p)
	if err != nil {
		return err
	}
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(w, img); err != nil {
		return fmt.Errorf("poster of venue %s: PNG: %w", p.VenueID, err)
	}
	return nil
}

// Image draws p on an A4 grayscale image at DPI.
func Image(p Poster) (*image.Gray, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	qr, err := matrix(p.Code)
	if err != nil {
		return nil, fmt.Errorf("poster of venue %s: %w", p.VenueID, err)
	}
	img := image.NewGray(image.Rect(0, 0, px(PageWidth), px(PageHeight)))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	for _, b := range p.blocks() {
		f, err := face(b.pt)
		if err != nil {
			return nil, err
		}
		measure := func(s string) float64 {
			return float64(font.MeasureString(f, s)) / 64 / DPI * 25.4
		}
		d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Gray{Y: b.gray}), Face: f}
		lh := lineHeight(b.pt)
		ascent := f.Metrics().Ascent
		for i, line := range wrap(b.s, PageWidth-2*margin, b.max, measure) {
			width := font.MeasureString(f, line)
			x := fixed.I(px(PageWidth/2)) - width/2
			// The PDF centres the line in a cell of height lh: the same.
			top := fixed.I(px(b.top + float64(i)*lh + (lh-b.pt*0.3528)/2))
			d.Dot = fixed.Point26_6{X: x, Y: top + ascent*8/10}
			d.DrawString(line)
		}
		f.Close()
	}

	x0, y0, side := px(QRBox[0]), px(QRBox[1]), px(QRBox[2])
	n := len(qr) + 2*quietZone
	mod := side / n // whole pixels a module, the code centred in its box
	off := (side - mod*n) / 2
	black := image.NewUniform(color.Gray{})
	for y, row := range qr {
		for x, dark := range row {
			if dark {
				r := image.Rect(0, 0, mod, mod).Add(image.Pt(x0+off+(quietZone+x)*mod, y0+off+(quietZone+y)*mod))
				draw.Draw(img, r, black, image.Point{}, draw.Src)
			}
		}
	}
	frame := image.NewUniform(color.Gray{Y: 0xb0})
	for _, r := range []image.Rectangle{
		image.Rect(x0, y0, x0+side, y0+2), image.Rect(x0, y0+side-2, x0+side, y0+side),
		image.Rect(x0, y0, x0+2, y0+side), image.Rect(x0+side-2, y0, x0+side, y0+side),
	} {
		draw.Draw(img, r, frame, image.Point{}, draw.Src)
	}
	return img, nil
}
