package camera

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// testJPEGs returns n small distinct JPEG frames.
func testJPEGs(t testing.TB, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range n {
		g := image.NewGray(image.Rect(0, 0, 24+8*i, 16))
		for j := range g.Pix {
			g.Pix[j] = byte(j*7 + i*40)
		}
		out = append(out, encodeJPEG(t, g))
	}
	return out
}

// withEXIFThumbnail returns frame with an APP1 segment holding another JPEG
// (a thumbnail) right after its SOI.
func withEXIFThumbnail(frame, thumb []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), thumb...)
	n := len(payload) + 2
	seg := append([]byte{0xFF, 0xE1, byte(n >> 8), byte(n)}, payload...)
	out := append([]byte{0xFF, 0xD8}, seg...)
	return append(out, frame[2:]...)
}

// splitAll returns every frame the splitter finds in stream.
func splitAll(t testing.TB, stream []byte, max int) ([][]byte, int) {
	t.Helper()
	sp := NewFrameSplitter(bytes.NewReader(stream), max)
	skipped := 0
	sp.OnSkip = func(error) { skipped++ }
	var frames [][]byte
	for {
		f, err := sp.Next()
		if errors.Is(err, io.EOF) {
			return frames, skipped
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		frames = append(frames, bytes.Clone(f))
	}
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Ensure that the splitter finds exactly the whole frames in streams as
// cameras, ffmpeg and HTTP cameras write them, and in broken ones.
func TestFrameSplitter_Next(t *testing.T) {
	js := testJPEGs(t, 3)
	a, b, c := js[0], js[1], js[2]
	thumbed := withEXIFThumbnail(a, c)
	multipart := func(f []byte) []byte {
		return []byte("--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: " +
			strings.Repeat("9", 5) + "\r\n\r\n" + string(f) + "\r\n")
	}
	// Fill bytes before a marker are allowed; the splitter drops them.
	filled := append([]byte{0xFF, 0xD8, 0xFF, 0xFF, 0xFF}, a[3:]...)

	tests := []struct {
		name    string
		stream  []byte
		max     int
		want    [][]byte
		skipped int
	}{
		{"empty", nil, 0, nil, 0},
		{"one", a, 0, [][]byte{a}, 0},
		{"back to back", join(a, b, c), 0, [][]byte{a, b, c}, 0},
		{"garbage around", join([]byte("junk\xff\x00\xff"), a, []byte("\x00\xff\xd9zz"), b, []byte("\xff")), 0, [][]byte{a, b}, 0},
		{"multipart", join(multipart(a), multipart(b), []byte("--myboundary--\r\n")), 0, [][]byte{a, b}, 0},
		{"thumbnail in EXIF", join(thumbed, b), 0, [][]byte{thumbed, b}, 0},
		{"fill bytes", join(filled, b), 0, [][]byte{a, b}, 0},
		{"truncated in scan data", join(a[:len(a)-10], b), 0, [][]byte{b}, 1},
		{"truncated at end", join(a, b[:len(b)/2]), 0, [][]byte{a}, 0},
		{"only SOI", []byte{0xFF, 0xD8}, 0, nil, 0},
		// The oversize frame is dropped, then so is its thumbnail (also too large).
		{"too large", join(a, thumbed, b), max(len(a), len(b)), [][]byte{a, b}, 2},
		{"bad marker", join([]byte{0xFF, 0xD8, 0x00}, a), 0, [][]byte{a}, 1},
		{"bad segment length", join([]byte{0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x01}, a), 0, [][]byte{a}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped := splitAll(t, tt.stream, tt.max)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d frames, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("frame %d: got %d bytes, want %d bytes", i, len(got[i]), len(tt.want[i]))
				}
			}
			if skipped != tt.skipped {
				t.Errorf("skipped %d frames, want %d", skipped, tt.skipped)
			}
		})
	}
}

// Ensure that the splitter copes with a reader returning one byte at a time
// and with read errors.
func TestFrameSplitter_Readers(t *testing.T) {
	js := testJPEGs(t, 2)
	stream := join(js[0], js[1])
	sp := NewFrameSplitter(iotest.OneByteReader(bytes.NewReader(stream)), 0)
	for i := range 2 {
		f, err := sp.Next()
		if err != nil || !bytes.Equal(f, js[i]) {
			t.Fatalf("frame %d: %d bytes, %v", i, len(f), err)
		}
	}
	if _, err := sp.Next(); err != io.EOF {
		t.Fatalf("Next at end = %v, want io.EOF", err)
	}

	boom := errors.New("boom")
	sp = NewFrameSplitter(io.MultiReader(bytes.NewReader(stream[:len(stream)-5]), iotest.ErrReader(boom)), 0)
	if f, err := sp.Next(); err != nil || !bytes.Equal(f, js[0]) {
		t.Fatalf("first frame: %d bytes, %v", len(f), err)
	}
	if _, err := sp.Next(); !errors.Is(err, boom) {
		t.Fatalf("Next = %v, want the read error", err)
	}
}

// FuzzFrameSplitter checks that any stream splits without panics into
// frames that start with SOI, end with EOI, respect the size limit, and
// split again into themselves.
func FuzzFrameSplitter(f *testing.F) {
	js := testJPEGs(f, 2)
	f.Add(join(js[0], js[1]))
	f.Add(join([]byte("--b\r\n\r\n"), js[0], []byte("\r\n--b\r\n\r\n"), js[1]))
	f.Add(withEXIFThumbnail(js[0], js[1]))
	f.Add(js[0][:len(js[0])/2])
	f.Fuzz(func(t *testing.T, stream []byte) {
		const max = 1 << 16
		frames, _ := splitAll(t, stream, max)
		for i, fr := range frames {
			if len(fr) < 4 || !bytes.HasPrefix(fr, []byte{0xFF, 0xD8}) || !bytes.HasSuffix(fr, []byte{0xFF, 0xD9}) {
				t.Fatalf("frame %d is not SOI..EOI: % x", i, fr)
			}
			if len(fr) > max {
				t.Fatalf("frame %d has %d bytes, over the limit", i, len(fr))
			}
		}
		again, skipped := splitAll(t, join(frames...), max)
		if skipped != 0 || len(again) != len(frames) {
			t.Fatalf("re-split gave %d frames (%d skipped), want %d", len(again), skipped, len(frames))
		}
		for i := range again {
			if !bytes.Equal(again[i], frames[i]) {
				t.Fatalf("re-split frame %d differs", i)
			}
		}
	})
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzFrameSplitter")

// Ensure that the checked-in seed corpus of FuzzFrameSplitter, which `go
// test` runs as part of FuzzFrameSplitter, is there (write it again with
// -update-seeds; the bytes depend on image/jpeg's encoder).
func TestFuzzFrameSplitterSeeds(t *testing.T) {
	js := testJPEGs(t, 3)
	a, b, c := js[0], js[1], js[2]
	seeds := map[string][]byte{
		"two-frames":     join(a, b),
		"multipart":      join([]byte("--b\r\nContent-Type: image/jpeg\r\n\r\n"), a, []byte("\r\n--b\r\nContent-Type: image/jpeg\r\n\r\n"), b, []byte("\r\n--b--\r\n")),
		"exif-thumbnail": join(withEXIFThumbnail(a, c), b),
		"truncated":      join(a[:len(a)-7], b, c[:len(c)/2]),
		"garbage":        join([]byte("\x00\xff\xff\xd9\xff\x00junk"), a, []byte("\xff\xd8\xff\x00"), b),
		"fill-and-rst":   join([]byte{0xFF, 0xD8, 0xFF, 0xFF}, a[3:len(a)-2], []byte{0xFF, 0xD0, 0x12, 0xFF, 0x00, 0xFF, 0xFF, 0xD9}),
		"bad-length":     join([]byte{0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x00}, a),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzFrameSplitter")
	for name, data := range seeds {
		file := filepath.Join(dir, name)
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test -run TestFuzzFrameSplitterSeeds -update-seeds)", err)
		}
		if !strings.HasPrefix(string(got), "go test fuzz v1\n[]byte(") {
			t.Errorf("%s is not a fuzz corpus file", file)
		}
	}
}
