package camera

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/anshim/anshim/hardware/camera/internal/corpus"
)

func TestExp2(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	frames, _ := corpus.Generate(corpus.Options{Seed: 7, PerClass: 60})
	passT := make([]time.Duration, len(cheapPasses)+len(fallbackPasses))
	passN := make([]int, len(passT))
	all := append(cheapPasses[:], fallbackPasses[:]...)
	for _, fr := range frames {
		f := newFrame(fr.Image)
		cheapOK := false
		tot, maxc := 0, 0
		for i, p := range cheapPasses {
			t0 := time.Now()
			r := f.run(p)
			if fr.Class == corpus.NoCode {
				passT[i] += time.Since(t0)
				passN[i]++
			}
			if r.text != "" {
				cheapOK = true
				break
			}
			tot += r.centers
			maxc = max(maxc, r.centers)
		}
		if cheapOK {
			continue
		}
		fb := ""
		if fr.Class == corpus.NoCode && tot < 3 { continue }
		for i, p := range fallbackPasses {
			t0 := time.Now()
			r := f.run(p)
			passT[len(cheapPasses)+i] += time.Since(t0)
			passN[len(cheapPasses)+i]++
			if r.text != "" {
				fb += fmt.Sprint(i)
			}
		}
		fmt.Printf("%-14s cheapfail centers tot=%d max=%d fallbackOK=%q\n", fr.Name, tot, maxc, fb)
	}
	for i, p := range all {
		if passN[i] > 0 {
			fmt.Printf("pass %d %+v avg %v\n", i, p, passT[i]/time.Duration(passN[i]))
		}
	}
}
