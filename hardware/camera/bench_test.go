package camera

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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

// decodeChildEnv makes the test binary a decode process: it decodes the
// files named on its command line as `kiosk decode` does (DecodeFiles with
// the decoder `kiosk decode` uses) and exits, so that our decoder and
// zbarimg are measured in the same process style.
const decodeChildEnv = "ANSHIM_CAMERA_DECODE_CHILD"

// kioskDecoder is the decoder `kiosk decode` uses (cmd/kiosk/decode.go).
var kioskDecoder = Decoder{Thorough: true}

func TestMain(m *testing.M) {
	if os.Getenv(decodeChildEnv) == "1" {
		kioskDecoder.DecodeFiles(os.Stdout, os.Args[1:]...)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runOurs runs one decode process over paths and returns the text it read
// from each path that gave one.
func runOurs(paths []string) (map[string]string, error) {
	cmd := exec.Command(os.Args[0], paths...)
	cmd.Env = append(os.Environ(), decodeChildEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("decode process: %w", err)
	}
	texts := map[string]string{}
	// Not TrimSpace: a code's text may end in a space (Base45 has one).
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		p, text, ok := strings.Cut(line, "\t")
		if ok && !strings.HasPrefix(text, "error: ") {
			texts[p] = text
		}
	}
	return texts, nil
}

// benchPerClass is the number of frames per class of BenchmarkVsZbar's
// corpus: 15 classes of 30, 420 of them coded, about a minute for the
// whole benchmark on two cores.
const benchPerClass = 30

// BenchmarkVsZbar decodes a corpus's PNG files (testSeed, benchPerClass
// frames of every class) with our decoder (as `kiosk decode`: a process
// reading the files) and with zbarimg restricted to QR codes (zbar.Args:
// -Sdisable -Sqrcode.enable), in the same process style, alternating
// which goes first:
//
//   - corpus: one process each over every file (frames with and without a
//     code); time-ratio is ours over zbar's wall time (below 1: faster),
//     read-ratio our codes read over zbar's. It also logs a table of the
//     codes each read per class.
//   - class=NAME: the codes of class NAME each read in corpus's last
//     round (coded-frames, ours-read, zbar-read); these rows time nothing.
//   - per-file: one process each per file; medians per file and the ratio
//     of the total times.
func BenchmarkVsZbar(b *testing.B) {
	bin := zbarimgPath(b)
	fs, err := corpus.Generate(corpus.Options{Seed: testSeed, PerClass: benchPerClass})
	if err != nil {
		b.Fatal(err)
	}
	paths, err := corpus.WriteDir(filepath.Join(b.TempDir(), "corpus"), fs)
	if err != nil {
		b.Fatal(err)
	}
	want := map[string]string{}
	class := map[string]corpus.Class{}
	coded := 0
	for i, f := range fs {
		class[paths[i]] = f.Class
		if f.Class != corpus.NoCode {
			want[paths[i]] = f.Text
			coded++
		}
	}
	// count returns the codes read in texts, in all and per class.
	count := func(texts map[string]string) (ok int, per map[corpus.Class]int) {
		per = map[corpus.Class]int{}
		for p, t := range texts {
			if t != "" && want[p] == t {
				ok++
				per[class[p]]++
			}
		}
		return ok, per
	}
	var oursPer, zbarPer map[corpus.Class]int
	b.Run("corpus", func(b *testing.B) {
		var ours, zbar time.Duration
		oursOK, zbarOK := 0, 0
		for i := 0; b.Loop(); i++ {
			for j := range 2 {
				start := time.Now()
				if (i+j)%2 == 0 {
					texts, err := runOurs(paths)
					if err != nil {
						b.Fatal(err)
					}
					ours += time.Since(start)
					oursOK, oursPer = count(texts)
				} else {
					texts, err := runZbar(bin, paths)
					if err != nil {
						b.Fatal(err)
					}
					zbar += time.Since(start)
					zbarOK, zbarPer = count(texts)
				}
			}
		}
		b.ReportMetric(ours.Seconds()/float64(b.N), "ours-s")
		b.ReportMetric(zbar.Seconds()/float64(b.N), "zbar-s")
		b.ReportMetric(ours.Seconds()/zbar.Seconds(), "time-ratio")
		b.ReportMetric(float64(coded), "coded-frames")
		b.ReportMetric(float64(len(paths)), "frames")
		b.ReportMetric(float64(oursOK), "ours-read")
		b.ReportMetric(float64(coded-oursOK), "ours-missed")
		b.ReportMetric(float64(zbarOK), "zbar-read")
		b.ReportMetric(float64(oursOK)/float64(zbarOK), "read-ratio")
		var t strings.Builder
		fmt.Fprintf(&t, "codes read per class (seed %d, %d frames a class):\n%-9s %6s %5s %5s", testSeed, benchPerClass, "class", "coded", "ours", "zbar")
		for _, c := range corpus.Classes {
			if c != corpus.NoCode {
				fmt.Fprintf(&t, "\n%-9s %6d %5d %5d", c, benchPerClass, oursPer[c], zbarPer[c])
			}
		}
		fmt.Fprintf(&t, "\n%-9s %6d %5d %5d", "total", coded, oursOK, zbarOK)
		b.Log(t.String())
	})
	for _, c := range corpus.Classes {
		if c == corpus.NoCode || oursPer == nil { // corpus not run (-bench filter)
			continue
		}
		b.Run("class="+string(c), func(b *testing.B) {
			b.ReportMetric(float64(benchPerClass), "coded-frames")
			b.ReportMetric(float64(oursPer[c]), "ours-read")
			b.ReportMetric(float64(zbarPer[c]), "zbar-read")
		})
	}
	b.Run("per-file", func(b *testing.B) {
		var oursTimes, zbarTimes []time.Duration
		var ours, zbar time.Duration
		for b.Loop() {
			for i, p := range paths {
				for j := range 2 {
					start := time.Now()
					var err error
					if (i+j)%2 == 0 {
						_, err = runOurs([]string{p})
						t := time.Since(start)
						ours += t
						oursTimes = append(oursTimes, t)
					} else {
						_, err = runZbar(bin, []string{p})
						t := time.Since(start)
						zbar += t
						zbarTimes = append(zbarTimes, t)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		b.ReportMetric(float64(median(oursTimes).Microseconds())/1000, "ours-ms/file")
		b.ReportMetric(float64(median(zbarTimes).Microseconds())/1000, "zbar-ms/file")
		b.ReportMetric(ours.Seconds()/zbar.Seconds(), "time-ratio")
	})
}
