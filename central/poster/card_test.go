package poster

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/anshim/anshim/pass"
)

// testCard returns a card of a signed card pass with serial.
func testCard(t testing.TB, initial string, serial uint32) Card {
	t.Helper()
	issued := time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC) // 12-06 in Korea
	p := pass.Pass{Pseudonym: [16]byte{1, 2, 3}, Kind: pass.KindCard, Serial: serial, Issued: issued, Expires: issued.Add(365 * 24 * time.Hour)}
	text, err := testSigner.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	return Card{Initial: initial, Serial: serial, Pass: text, Issued: p.Issued, Expires: p.Expires}
}

// renderPDF renders a one-page PDF with pdftoppm at dpi and returns the
// page image and the PDF's file; it skips (or fails in CI) without
// pdftoppm.
func renderPDF(t *testing.T, pdf []byte, dpi string) (image.Image, string) {
	t.Helper()
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm not installed (make deps installs poppler-utils)")
		}
		t.Skip("pdftoppm not installed (make deps)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "card.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftoppm, "-r", dpi, "-gray", "-png", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img, in
}

// Ensure that the card PDF is a bank card's size and, rendered back to
// pixels by pdftoppm, holds a QR code in CardQRBox that decodes to the
// card pass, which pass.Verify accepts as the card of its serial; and
// that its text is the card's: the initial, serial, both instruction
// lines and the validity.
func TestCardPDF_RendersBack(t *testing.T) {
	for _, tt := range []struct {
		name    string
		initial string
		serial  uint32
	}{
		{"hangul", "김", 1},
		{"latin, large serial", "J", 4_294_967_295},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := testCard(t, tt.initial, tt.serial)
			var b bytes.Buffer
			if err := CardPDF(&b, c); err != nil {
				t.Fatal(err)
			}
			img, file := renderPDF(t, b.Bytes(), "300")
			if got := img.Bounds().Size(); got.X < 1005 || got.X > 1016 || got.Y < 633 || got.Y > 643 {
				t.Errorf("page %v px at 300 dpi, want 85.6 × 54 mm (1011 × 638)", got)
			}
			mm := func(v float64) int { return int(v / 25.4 * 300) }
			box := image.Rect(mm(CardQRBox[0]), mm(CardQRBox[1]), mm(CardQRBox[0]+CardQRBox[2]), mm(CardQRBox[1]+CardQRBox[2]))
			text := decodeRect(t, img, box)
			if text != c.Pass {
				t.Fatalf("the QR code holds %q, want the pass %q", text, c.Pass)
			}
			v := pass.NewVerifier([]pass.PublicKey{testSigner.PublicKey()}, nil)
			p, err := v.Verify(text, c.Issued.Add(time.Hour))
			if err != nil || p.Kind != pass.KindCard || p.Serial != tt.serial {
				t.Fatalf("Verify = %v, %v; want the card pass of serial %d", p, err, tt.serial)
			}
			if pdftotext, err := exec.LookPath("pdftotext"); err == nil {
				out, err := exec.Command(pdftotext, "-layout", file, "-").Output()
				if err != nil {
					t.Fatal(err)
				}
				txt := strings.Join(strings.Fields(string(out)), " ")
				for _, want := range []string{tt.initial, "2026-12-06", "2027-12-06", "카드 번호", CardShowKO, "scanner at the entrance"} {
					if !strings.Contains(txt, want) {
						t.Errorf("the card's text lacks %q:\n%s", want, txt)
					}
				}
			}
			if out := os.Getenv("ANSHIM_CARD_OUT"); out != "" && tt.serial == 1 { // to look at it
				if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// decodeRect decodes the QR code in the rectangle r of img.
func decodeRect(t *testing.T, img image.Image, r image.Rectangle) string {
	t.Helper()
	crop := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := range r.Dy() {
		for x := range r.Dx() {
			crop.Set(x, y, img.At(r.Min.X+x, r.Min.Y+y))
		}
	}
	return decodeImage(t, crop)
}

// Ensure that a card without a pass, serial or single-letter initial, or
// valid for no time, is refused.
func TestCardPDF_Invalid(t *testing.T) {
	good := testCard(t, "김", 7)
	for name, mod := range map[string]func(*Card){
		"no pass":       func(c *Card) { c.Pass = "" },
		"no serial":     func(c *Card) { c.Serial = 0 },
		"no initial":    func(c *Card) { c.Initial = "" },
		"a whole name":  func(c *Card) { c.Initial = "김민수" },
		"not UTF-8":     func(c *Card) { c.Initial = "\xff" },
		"control":       func(c *Card) { c.Initial = "\n" },
		"expires early": func(c *Card) { c.Expires = c.Issued },
	} {
		c := good
		mod(&c)
		if err := CardPDF(&bytes.Buffer{}, c); err == nil {
			t.Errorf("%s: CardPDF = nil, want an error", name)
		}
	}
	if err := CardPDF(&bytes.Buffer{}, good); err != nil {
		t.Errorf("the good card: %v", err)
	}
}

// The cost of a card: each print draws one.
func BenchmarkCardPDF(b *testing.B) {
	c := testCard(b, "김", 12)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := CardPDF(&buf, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/pdf")
}

// decodeImage decodes the one QR code of img.
func decodeImage(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode the card's QR code: %v", err)
	}
	return res.GetText()
}
