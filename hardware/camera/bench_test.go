package camera

import (
	"slices"
	"testing"
	"time"

	"github.com/anshim/anshim/hardware/camera/internal/corpus"
)

// median returns the median of ds (ds is sorted in place).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func splitCoded(fs []corpus.Frame) (coded, none []corpus.Frame) {
	for _, f := range fs {
		if f.Class == corpus.NoCode {
			none = append(none, f)
		} else {
			coded = append(coded, f)
		}
	}
	return coded, none
}

// BenchmarkDecode measures Decoder.Decode on 640×480 grey frames in memory,
// frames with a code and frames without, and reports the median time per
// frame besides the mean (ns/op).
func BenchmarkDecode(b *testing.B) {
	coded, none := splitCoded(frames(b))
	for _, bc := range []struct {
		name   string
		frames []corpus.Frame
	}{{"coded", coded}, {"nocode", none}} {
		b.Run(bc.name, func(b *testing.B) {
			var d Decoder
			var times []time.Duration
			ok := 0
			for i := 0; b.Loop(); i++ {
				f := bc.frames[i%len(bc.frames)]
				start := time.Now()
				text, _ := d.Decode(f.Image)
				times = append(times, time.Since(start))
				if text != "" && text == f.Text {
					ok++
				}
			}
			b.ReportMetric(float64(median(times).Microseconds())/1000, "ms/frame-median")
			b.ReportMetric(float64(ok)/float64(len(times)), "read/frame")
		})
	}
}

// BenchmarkDecodeJPEG measures what the MJPEG scanner does per camera
// frame: JPEG decoding and Decoder.Decode.
func BenchmarkDecodeJPEG(b *testing.B) {
	coded, none := splitCoded(frames(b))
	for _, bc := range []struct {
		name   string
		frames []corpus.Frame
	}{{"coded", coded}, {"nocode", none}} {
		b.Run(bc.name, func(b *testing.B) {
			jpegs := make([][]byte, len(bc.frames))
			for i, f := range bc.frames {
				jpegs[i] = encodeJPEG(b, f.Image)
			}
			var d Decoder
			var times []time.Duration
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				img, err := decodeBytes(jpegs[i%len(jpegs)])
				if err != nil {
					b.Fatal(err)
				}
				d.Decode(img)
				times = append(times, time.Since(start))
			}
			b.ReportMetric(float64(median(times).Microseconds())/1000, "ms/frame-median")
		})
	}
}

// BenchmarkVsZbar decodes the corpus's PNG files with DecodeFile and with
// one zbarimg process per class of frames (coded, nocode), and reports
// both per-frame times, their ratio (ours/zbar, below 1 is faster) and how
// many codes each read. zbarimg's time includes its process start and PNG
// loading, spread over the files; ours includes PNG loading.
func BenchmarkVsZbar(b *testing.B) {
	bin := zbarimgPath(b)
	fs, paths := writeCorpus(b)
	for _, coded := range []bool{true, false} {
		name := "coded"
		if !coded {
			name = "nocode"
		}
		var sel []string
		var want []string
		for i, f := range fs {
			if (f.Class != corpus.NoCode) == coded {
				sel = append(sel, paths[i])
				want = append(want, f.Text)
			}
		}
		b.Run(name, func(b *testing.B) {
			var d Decoder
			var ours, zbar time.Duration
			var oursTimes []time.Duration
			oursOK, zbarOK := 0, 0
			for b.Loop() {
				oursOK, zbarOK = 0, 0
				for i, p := range sel {
					start := time.Now()
					text, _ := d.DecodeFile(p)
					t := time.Since(start)
					ours += t
					oursTimes = append(oursTimes, t)
					if text != "" && text == want[i] {
						oursOK++
					}
				}
				start := time.Now()
				texts, err := runZbar(bin, sel)
				zbar += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				for i, p := range sel {
					if t, ok := texts[p]; ok && t == want[i] {
						zbarOK++
					}
				}
			}
			n := float64(b.N * len(sel))
			oursMs := float64(ours.Microseconds()) / 1000 / n
			zbarMs := float64(zbar.Microseconds()) / 1000 / n
			b.ReportMetric(oursMs, "ours-ms/frame")
			b.ReportMetric(float64(median(oursTimes).Microseconds())/1000, "ours-ms/frame-median")
			b.ReportMetric(zbarMs, "zbar-ms/frame")
			b.ReportMetric(oursMs/zbarMs, "ours/zbar")
			b.ReportMetric(float64(oursOK), "ours-read")
			b.ReportMetric(float64(zbarOK), "zbar-read")
		})
	}
}
