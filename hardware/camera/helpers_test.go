package camera

import (
	"bytes"
	"image"
	"image/jpeg"
	"sync"
	"testing"

	"github.com/anshim/anshim/hardware/camera/internal/corpus"
)

// testSeed and testPerClass choose the corpus the tests use: 15 classes of
// 14 frames, small enough for a few seconds on two cores.
const (
	testSeed     = 20201221 // the day Jeju Safe Code launched
	testPerClass = 14
)

// testCorpus generates the test corpus once per test binary.
var testCorpus = sync.OnceValues(func() ([]corpus.Frame, error) {
	return corpus.Generate(corpus.Options{Seed: testSeed, PerClass: testPerClass})
})

func frames(t testing.TB) []corpus.Frame {
	t.Helper()
	fs, err := testCorpus()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// framesOf returns the corpus frames of class c.
func framesOf(t testing.TB, c corpus.Class) []corpus.Frame {
	var out []corpus.Frame
	for _, f := range frames(t) {
		if f.Class == c {
			out = append(out, f)
		}
	}
	return out
}

// encodeJPEG returns img as a JPEG file, like one camera frame.
func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
