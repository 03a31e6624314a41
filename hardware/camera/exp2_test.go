package camera

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/anshim/anshim/hardware/camera/internal/corpus"
	"github.com/makiuchi-d/gozxing"
)

func TestExp2(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	frames, _ := corpus.Generate(corpus.Options{Seed: 7, PerClass: 60})
	for _, fr := range frames {
		f := newFrame(fr.Image)
		ok := false
		sampled, cks, centers := 0, 0, 0
		for _, p := range cheapPasses {
			r := f.run(p)
			if r.text != "" {
				ok = true
				break
			}
			sampled += r.sampled
			centers += r.centers
			var ce gozxing.ChecksumException
			if errors.As(r.err, &ce) {
				cks++
			}
		}
		if ok {
			continue
		}
		fb := ""
		for i, p := range fallbackPasses {
			r := f.run(p)
			if r.text != "" {
				fb += fmt.Sprint(i)
			}
		}
		fmt.Printf("%-14s centers=%d sampled=%d cks=%d rescued=%q\n", fr.Name, centers, sampled, cks, fb)
	}
}
