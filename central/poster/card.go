package poster

import (
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
)

// Card is what a visitor's printed check-in card shows: the card pass of a
// visitor without a smartphone, printed by a community centre's clerk.
// It holds the holder's initial only, never their name or phone number.
type Card struct {
	// Initial is the first letter of the holder's name ("김").
	Initial string
	// Serial is the card's serial (pass.Pass.Serial), printed so that a
	// lost card can be named on the phone.
	Serial uint32
	// Pass is the signed card pass text (pass.KindCard), printed as a QR
	// code.
	Pass string
	// Issued and Expires bound the pass's validity; the card prints
	// their KST dates.
	Issued, Expires time.Time
}

// The card, in millimetres: ISO/IEC 7810 ID-1, a bank card's size.
const (
	CardWidth  = 85.6
	CardHeight = 54.0
	cardMargin = 3.5
)

// CardQRBox is the square the card's QR code is drawn in, quiet zone
// included, in millimetres from the card's top left corner: x, y, side.
var CardQRBox = [3]float64{2.5, 5.5, 43}

// Lines of the card.
const (
	CardHeading  = "안심 출입 카드 · Anshim card"
	CardShowKO   = "출입 시 스캐너에 QR을 보여주세요"
	CardShowEN   = "Show this QR code to the scanner at the entrance"
	CardSerial   = "카드 번호 No. %08d"
	CardValidFmt = "유효기간 Valid %s – %s"
	CardLostKO   = "분실 시 주민센터에 알려주세요 · If lost, tell the community centre"
)

// cardText is one block of left-aligned text in the card's right column.
type cardText struct {
	s    string
	pt   float64
	top  float64 // mm from the card's top
	gray uint8
	max  int
}

// column is the x and width of the card's right column, beside the QR code.
func cardColumn() (x, width float64) {
	x = CardQRBox[0] + CardQRBox[2] + 1.5
	return x, CardWidth - cardMargin - x
}

func (c Card) blocks() []cardText {
	return []cardText{
		{s: CardHeading, pt: 6.5, top: 4.5, gray: 0x40, max: 2},
		{s: c.Initial, pt: 26, top: 11, max: 1},
		{s: fmt.Sprintf(CardSerial, c.Serial), pt: 6.5, top: 23.5, gray: 0x30, max: 1},
		{s: CardShowKO, pt: 8.5, top: 28, max: 3},
		{s: CardShowEN, pt: 5.5, top: 38.5, gray: 0x30, max: 2},
	}
}

// footer is the line under the QR code and the column: validity and what
// to do with a lost card.
func (c Card) footer() []cardText {
	return []cardText{
		{s: fmt.Sprintf(CardValidFmt, c.Issued.In(kst).Format("2006-01-02"), c.Expires.In(kst).Format("2006-01-02")), pt: 5.5, top: 46.5, gray: 0x20, max: 1},
		{s: CardLostKO, pt: 4.5, top: 49.5, gray: 0x50, max: 1},
	}
}

// check refuses a card that cannot be drawn.
func (c Card) check() error {
	r, n := utf8.DecodeRuneInString(c.Initial)
	switch {
	case c.Pass == "":
		return fmt.Errorf("card %d: no pass", c.Serial)
	case c.Serial == 0:
		return fmt.Errorf("card: no serial")
	case r == utf8.RuneError || n != len(c.Initial) || !unicode.IsPrint(r):
		return fmt.Errorf("card %d: the initial must be one printable letter", c.Serial)
	case !c.Expires.After(c.Issued):
		return fmt.Errorf("card %d: expires %v, not after it is issued", c.Serial, c.Expires)
	}
	return nil
}

// CardPDF writes c as a one-page PDF the size of a bank card (85.6 × 54
// mm), with a thin cut line around it: the QR code on the left (vector,
// each run of dark modules a filled rectangle), the initial, serial and
// instructions in Korean and English on the right, the validity below.
func CardPDF(w io.Writer, c Card) error {
	if err := c.check(); err != nil {
		return err
	}
	qr, err := matrix(c.Pass)
	if err != nil {
		return fmt.Errorf("card %d: %w", c.Serial, err)
	}
	f := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", Size: fpdf.SizeType{Wd: CardWidth, Ht: CardHeight}})
	f.SetCreator("Anshim", true)
	f.SetTitle("Anshim card "+strconv.FormatUint(uint64(c.Serial), 10), true)
	f.SetCreationDate(c.Issued)
	f.SetModificationDate(c.Issued)
	f.SetCompression(true)
	f.SetMargins(cardMargin, cardMargin, cardMargin)
	f.SetAutoPageBreak(false, 0)
	f.AddUTF8FontFromBytes("gothic", "B", fontTTF)
	f.AddPage()

	x, width := cardColumn()
	put := func(b cardText, x, width float64, align string) {
		f.SetFont("gothic", "B", b.pt)
		f.SetTextColor(int(b.gray), int(b.gray), int(b.gray))
		lh := lineHeight(b.pt)
		for i, line := range wrap(b.s, width, b.max, f.GetStringWidth) {
			f.SetXY(x, b.top+float64(i)*lh)
			f.CellFormat(width, lh, line, "", 0, align, false, 0, "")
		}
	}
	for _, b := range c.blocks() {
		put(b, x, width, "L")
	}
	for _, b := range c.footer() {
		put(b, cardMargin, CardWidth-2*cardMargin, "C")
	}

	drawQR(f, qr, CardQRBox)
	// The cut line: the card's edge, rounded like a bank card's.
	f.SetDrawColor(0xb0, 0xb0, 0xb0)
	f.SetLineWidth(0.2)
	f.RoundedRect(0.3, 0.3, CardWidth-0.6, CardHeight-0.6, 3, "1234", "D")

	if err := f.Output(w); err != nil {
		return fmt.Errorf("card %d: PDF: %w", c.Serial, err)
	}
	return nil
}

// drawQR draws the QR code qr (without its quiet zone) in box (x, y,
// side in mm, quiet zone included): each run of dark modules in a row is
// one filled rectangle.
func drawQR(f *fpdf.Fpdf, qr [][]bool, box [3]float64) {
	x0, y0, side := box[0], box[1], box[2]
	mod := side / float64(len(qr)+2*quietZone)
	f.SetFillColor(0, 0, 0)
	for y, row := range qr {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			end := x
			for end < len(row) && row[end] {
				end++
			}
			f.Rect(x0+float64(quietZone+x)*mod, y0+float64(quietZone+y)*mod, float64(end-x)*mod, mod, "F")
			x = end
		}
	}
}
