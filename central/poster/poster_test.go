package poster

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
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

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/venuecode"
)

var testSigner = func() pass.Signer {
	seed := sha256.Sum256([]byte("poster test"))
	return pass.Signer{Private: ed25519.NewKeyFromSeed(seed[:])}
}()

func testPoster(t *testing.T, venue, name, address string) Poster {
	t.Helper()
	issued := time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC) // 12-06 in Korea
	code, err := venuecode.IssuePoster(testSigner, venue, issued)
	if err != nil {
		t.Fatal(err)
	}
	return Poster{VenueID: venue, Name: name, Address: address, Category: registry.Cafe, Code: code, Issued: issued}
}

// decodeBox decodes the QR code in the QR box of a page image of dpi.
func decodeBox(t *testing.T, img image.Image, dpi float64) string {
	t.Helper()
	mm := func(v float64) int { return int(v / 25.4 * dpi) }
	box := image.Rect(mm(QRBox[0])+2, mm(QRBox[1])+2, mm(QRBox[0]+QRBox[2])-2, mm(QRBox[1]+QRBox[2])-2)
	crop := image.NewGray(image.Rect(0, 0, box.Dx(), box.Dy()))
	for y := range box.Dy() {
		for x := range box.Dx() {
			crop.Set(x, y, img.At(box.Min.X+x, box.Min.Y+y))
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(crop)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode the poster's QR code: %v", err)
	}
	return res.GetText()
}

// checkCode checks that text is a valid poster code of venue.
func checkCode(t *testing.T, text, venue string) {
	t.Helper()
	got, err := venuecode.VerifyPoster([]pass.PublicKey{testSigner.PublicKey()}, text)
	if err != nil || got != venue {
		t.Fatalf("decoded code: venue %q, %v; want a valid code of %q", got, err, venue)
	}
}

// Ensure that the PDF, rendered back to pixels by pdftoppm, holds a QR
// code that decodes to a valid poster code of the venue, and that its
// text is the poster's (the Korean lines, the English line, the date).
func TestPDF_RendersBack(t *testing.T) {
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm not installed (make deps installs poppler-utils)")
		}
		t.Skip("pdftoppm not installed (make deps)")
	}
	for _, tt := range []struct {
		name, venue, venueName, address string
	}{
		{"short", "cafe-1", "카페 한라", "제주특별자치도 제주시 중앙로 1"},
		{"long name and address", "jeju-seogwipo-restaurant-0042",
			strings.Repeat("서귀포 바닷가 흑돼지 전문 식당 ", 5),
			strings.Repeat("제주특별자치도 서귀포시 중문관광로 72번길 ", 6)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := testPoster(t, tt.venue, tt.venueName, tt.address)
			var b bytes.Buffer
			if err := PDF(&b, p); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", b.Bytes()[:8])
			}
			dir := t.TempDir()
			in := filepath.Join(dir, "poster.pdf")
			if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdftoppm, "-r", "100", "-gray", "-png", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput()
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
			if w := img.Bounds().Dx(); w < 820 || w > 830 { // 210 mm at 100 dpi
				t.Errorf("page width %d px at 100 dpi, want A4's 827", w)
			}
			checkCode(t, decodeBox(t, img, 100), tt.venue)

			if pdftotext, err := exec.LookPath("pdftotext"); err == nil {
				txt, err := exec.Command(pdftotext, "-layout", in, "-").Output()
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{ScanKO, ScanEN, "2026-12-06", tt.venue, "카페"} {
					if !strings.Contains(string(txt), want) {
						t.Errorf("the PDF's text lacks %q:\n%s", want, txt)
					}
				}
			}
		})
	}
}

// Ensure that the PNG is an A4 page at DPI whose QR code decodes to the
// venue's poster code.
func TestPNG_Decodes(t *testing.T) {
	p := testPoster(t, "cafe-1", "카페 한라", "제주특별자치도 제주시 중앙로 1")
	var b bytes.Buffer
	if err := PNG(&b, p); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("ANSHIM_POSTER_OUT"); out != "" { // to look at it
		if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != image.Pt(1240, 1754) {
		t.Errorf("size %v, want 1240×1754 (A4 at 150 dpi)", got)
	}
	checkCode(t, decodeBox(t, img, DPI), "cafe-1")
}

// Ensure that a poster without a code or name is refused.
func TestPoster_Invalid(t *testing.T) {
	for _, p := range []Poster{
		{VenueID: "v", Name: "x"},
		{VenueID: "v", Code: "AV1:X"},
		{VenueID: "v", Name: "\xff", Code: "AV1:X"},
	} {
		if err := PDF(&bytes.Buffer{}, p); err == nil {
			t.Errorf("PDF(%+v) = nil, want an error", p)
		}
		if err := PNG(&bytes.Buffer{}, p); err == nil {
			t.Errorf("PNG(%+v) = nil, want an error", p)
		}
	}
}

// Ensure that wrap keeps lines within the width, cuts at max lines with
// "…" and breaks a word longer than a line.
func TestWrap(t *testing.T) {
	measure := func(s string) float64 { return float64(len([]rune(s))) } // one unit a character
	for _, tt := range []struct {
		s    string
		w    float64
		max  int
		want []string
	}{
		{"a bc def", 10, 2, []string{"a bc def"}},
		{"a bc def", 4, 3, []string{"a bc", "def"}},
		{"a bc def gh", 4, 2, []string{"a bc", "def…"}},
		{"abcdefghij", 4, 3, []string{"abcd", "efgh", "ij"}},
		{"가나다라마바", 3, 2, []string{"가나다", "라마바"}},
		{"", 4, 2, nil},
	} {
		got := wrap(tt.s, tt.w, tt.max, measure)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %v, %d) = %q, want %q", tt.s, tt.w, tt.max, got, tt.want)
		}
	}
}

// The cost of a poster: each download draws one.
func BenchmarkPDF(b *testing.B) {
	code, _ := venuecode.IssuePoster(testSigner, "cafe-1", time.Unix(1_780_000_000, 0))
	p := Poster{VenueID: "cafe-1", Name: "카페 한라", Address: "제주특별자치도 제주시 중앙로 1", Category: registry.Cafe, Code: code, Issued: time.Unix(1_780_000_000, 0)}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := PDF(&buf, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/pdf")
}

func BenchmarkPNG(b *testing.B) {
	code, _ := venuecode.IssuePoster(testSigner, "cafe-1", time.Unix(1_780_000_000, 0))
	p := Poster{VenueID: "cafe-1", Name: "카페 한라", Address: "제주특별자치도 제주시 중앙로 1", Category: registry.Cafe, Code: code, Issued: time.Unix(1_780_000_000, 0)}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := PNG(&buf, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/png")
}
