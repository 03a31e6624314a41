package display

import (
	"fmt"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// quietZone is the white border around a QR code, in modules (ISO/IEC 18004).
const quietZone = 4

// QRSVG returns the QR code of text (error correction M) as an SVG image,
// one unit per module with the quiet zone, to be scaled by the page. The
// dark modules are one path, run-length merged per row.
func QRSVG(text string) (string, error) {
	m, err := qrMatrix(text)
	if err != nil {
		return "", err
	}
	w, h := m.GetWidth(), m.GetHeight()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR">`, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, w, h)
	for y := range h {
		for x := 0; x < w; {
			if !m.Get(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < w && m.Get(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

// qrMatrix returns the QR code of text, one pixel per module.
func qrMatrix(text string) (*gozxing.BitMatrix, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: "M",
		gozxing.EncodeHintType_MARGIN:           quietZone,
	}
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 1, 1, hints)
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return m, nil
}
