package poster

import (
	"fmt"
	"io"

	"codeberg.org/go-pdf/fpdf"
)

// PDF writes p as a one-page A4 PDF. The QR code is vector: each dark
// module a filled square.
func PDF(w io.Writer, p Poster) error {
	if err := p.check(); err != nil {
		return err
	}
	qr, err := matrix(p.Code)
	if err != nil {
		return fmt.Errorf("poster of venue %s: %w", p.VenueID, err)
	}
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCreator("Anshim", true)
	f.SetTitle("Anshim poster "+p.VenueID, true)
	f.SetCreationDate(p.Issued)
	f.SetModificationDate(p.Issued)
	f.SetCompression(true)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(false, 0)
	f.AddUTF8FontFromBytes("gothic", "B", fontTTF)
	f.AddPage()

	for _, b := range p.blocks() {
		f.SetFont("gothic", "B", b.pt)
		f.SetTextColor(int(b.gray), int(b.gray), int(b.gray))
		lh := lineHeight(b.pt)
		for i, line := range wrap(b.s, PageWidth-2*margin, b.max, f.GetStringWidth) {
			f.SetXY(margin, b.top+float64(i)*lh)
			f.CellFormat(PageWidth-2*margin, lh, line, "", 0, "C", false, 0, "")
		}
	}

	x0, y0, side := QRBox[0], QRBox[1], QRBox[2]
	mod := side / float64(len(qr)+2*quietZone)
	f.SetFillColor(0, 0, 0)
	for y, row := range qr {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			run := x // a run of dark modules is one rectangle
			for run < len(row) && row[run] {
				run++
			}
			f.Rect(x0+float64(quietZone+x)*mod, y0+float64(quietZone+y)*mod, float64(run-x)*mod, mod, "F")
			x = run
		}
	}
	// A thin frame around the code's square, cut marks for a stand.
	f.SetDrawColor(0xb0, 0xb0, 0xb0)
	f.SetLineWidth(0.3)
	f.Rect(x0, y0, side, side, "D")

	if err := f.Output(w); err != nil {
		return fmt.Errorf("poster of venue %s: PDF: %w", p.VenueID, err)
	}
	return nil
}
