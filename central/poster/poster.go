// Package poster draws a venue's printable check-in poster: an A4 page
// with the venue's name, category and address, its signed static code
// (venuecode.IssuePoster) as a QR code, short Korean instructions with an
// English line, and the code's issue date. The same layout is written as
// a PDF (PDF, vector: the QR code's modules are filled rectangles) and as
// a PNG (PNG, 150 dpi).
//
// # Font
//
// Both embed font/AnshimPosterGothic-Bold.ttf, a subset of NanumGothic
// Bold (SIL OFL 1.1, font/OFL.txt) to the 2,350 Hangul syllables of
// KS X 1001, ASCII and some punctuation: a venue's name or address with
// a rarer syllable prints that syllable as a blank box, so the business
// portal shows the PNG before anyone prints.
package poster

import (
	_ "embed"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/anshim/anshim/central/registry"
)

//go:embed font/AnshimPosterGothic-Bold.ttf
var fontTTF []byte

// Poster is what a poster shows.
type Poster struct {
	VenueID  string
	Name     string
	Address  string
	Category registry.Category
	// Code is the signed poster code (venuecode.IssuePoster), printed as
	// a QR code.
	Code string
	// Issued is when the code was issued; the poster prints its KST date.
	Issued time.Time
}

// The page, in millimetres.
const (
	PageWidth  = 210.0 // A4
	PageHeight = 297.0
	margin     = 18.0
)

// QRBox is the square the QR code is drawn in, quiet zone included, in
// millimetres from the page's top left corner: x, y, side.
var QRBox = [3]float64{40, 88, 130}

// Lines of the poster.
const (
	Heading   = "안심 체크인 · Anshim check-in"
	ScanKO    = "안심 앱으로 QR코드를 스캔하세요"
	ScanEN    = "Scan with the Anshim app"
	IssuedFmt = "발급일 Issued %s · 시설 Venue %s"
)

// categoryLabels are the categories as printed: Korean · English.
var categoryLabels = map[registry.Category]string{
	registry.Restaurant: "음식점 · Restaurant",
	registry.Cafe:       "카페 · Cafe",
	registry.Bar:        "주점 · Bar",
	registry.Bathhouse:  "목욕장 · Bathhouse",
	registry.Gym:        "체육시설 · Gym",
	registry.Karaoke:    "노래연습장 · Karaoke",
	registry.PCRoom:     "PC방 · PC room",
	registry.Church:     "종교시설 · Place of worship",
	registry.Academy:    "학원 · Academy",
	registry.Other:      "기타 · Other",
}

// CategoryLabel returns how a poster names category c ("카페 · Cafe").
func CategoryLabel(c registry.Category) string {
	if l, ok := categoryLabels[c]; ok {
		return l
	}
	return string(c)
}

var kst = time.FixedZone("KST", 9*3600)

// text is one block of centred text: its lines are wrapped to the page's
// width less the margins.
type text struct {
	s    string
	pt   float64 // font size in points
	top  float64 // the first line's top, mm
	gray uint8   // 0 black … 255 white
	max  int     // at most this many lines (the last one cut with …)
}

// blocks returns the poster's text blocks.
func (p Poster) blocks() []text {
	return []text{
		{s: Heading, pt: 18, top: 16, gray: 0x40, max: 1},
		{s: p.Name, pt: 30, top: 34, max: 2},
		{s: CategoryLabel(p.Category) + " — " + p.Address, pt: 13, top: 66, gray: 0x30, max: 2},
		{s: ScanKO, pt: 22, top: 226, max: 2},
		{s: ScanEN, pt: 15, top: 240, gray: 0x30, max: 1},
		{s: fmt.Sprintf(IssuedFmt, p.Issued.In(kst).Format("2006-01-02"), p.VenueID), pt: 10, top: 276, gray: 0x50, max: 2},
	}
}

// check refuses a poster that cannot be drawn.
func (p Poster) check() error {
	switch {
	case p.Code == "":
		return fmt.Errorf("poster of venue %s: no code", p.VenueID)
	case p.Name == "" || !utf8.ValidString(p.Name) || !utf8.ValidString(p.Address):
		return fmt.Errorf("poster of venue %s: no name, or text not UTF-8", p.VenueID)
	}
	return nil
}

// lineHeight is the height of a line of pt points, in millimetres.
func lineHeight(pt float64) float64 { return pt * 0.3528 * 1.3 }

// wrap breaks s into lines no wider than width as measure measures them:
// at spaces, or between any two characters of a word too long for a
// line. Past max lines the last is cut and ends with "…".
func wrap(s string, width float64, max int, measure func(string) float64) []string {
	var lines []string
	cur := ""
	push := func() {
		lines = append(lines, cur)
		cur = ""
	}
	for _, word := range strings.Fields(s) {
		try := word
		if cur != "" {
			try = cur + " " + word
		}
		if measure(try) <= width {
			cur = try
			continue
		}
		if cur != "" {
			push()
		}
		for measure(word) > width { // a word wider than a line
			n := 0
			for i := range word {
				if i > 0 && measure(word[:i]) > width {
					break
				}
				n = i
			}
			if n == 0 {
				_, n = utf8.DecodeRuneInString(word)
			}
			cur = word[:n]
			push()
			word = word[n:]
		}
		cur = word
	}
	if cur != "" {
		push()
	}
	if len(lines) > max {
		lines = lines[:max]
		last := lines[max-1]
		for last != "" && measure(last+"…") > width {
			_, n := utf8.DecodeLastRuneInString(last)
			last = last[:len(last)-n]
		}
		lines[max-1] = last + "…"
	}
	return lines
}

// matrix returns the QR code of code (error correction M) without its
// quiet zone, one bool a module, and its side in modules.
func matrix(code string) ([][]bool, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: "M",
		gozxing.EncodeHintType_MARGIN:           0,
	}
	m, err := qrcode.NewQRCodeWriter().Encode(code, gozxing.BarcodeFormat_QR_CODE, 1, 1, hints)
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	out := make([][]bool, m.GetHeight())
	for y := range out {
		out[y] = make([]bool, m.GetWidth())
		for x := range out[y] {
			out[y][x] = m.Get(x, y)
		}
	}
	return out, nil
}

// quietZone is the white border of the QR code, in modules (ISO/IEC
// 18004 asks for 4).
const quietZone = 4
