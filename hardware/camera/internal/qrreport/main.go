// Command qrreport compares the camera decoder with zbarimg on a generated
// corpus of degraded frames: codes read per degradation class by each, and
// time per frame.
//
//	go run ./hardware/camera/internal/qrreport [-seed N] [-n PER_CLASS] [-dir DIR]
//
// With -dir the corpus (PNG files and manifest.tsv) is kept there.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/anshim/anshim/hardware/camera"
	"github.com/anshim/anshim/hardware/camera/internal/corpus"
	"github.com/anshim/anshim/hardware/camera/internal/zbar"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "qrreport: error:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("qrreport", flag.ContinueOnError)
	seed := fs.Uint64("seed", 20201221, "corpus seed")
	n := fs.Int("n", 30, "frames per class")
	dir := fs.String("dir", "", "keep the corpus in `DIR` (default: a temporary directory)")
	thorough := fs.Bool("thorough", false, "use Decoder.Thorough")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bin, err := zbar.Path()
	if err != nil {
		return err
	}
	out := *dir
	if out == "" {
		tmp, err := os.MkdirTemp("", "qrreport")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		out = tmp
	}
	frames, err := corpus.Generate(corpus.Options{Seed: *seed, PerClass: *n})
	if err != nil {
		return err
	}
	paths, err := corpus.WriteDir(out, frames)
	if err != nil {
		return err
	}

	d := camera.Decoder{Thorough: *thorough}
	type row struct {
		ours, zbar, wrong    int
		oursTimes, fileTimes []time.Duration
		zbarTime             time.Duration
		frames               int
	}
	rows := map[corpus.Class]*row{}
	for _, c := range corpus.Classes {
		rows[c] = &row{}
	}
	for i, f := range frames {
		r := rows[f.Class]
		r.frames++
		start := time.Now()
		text, err := d.Decode(f.Image)
		r.oursTimes = append(r.oursTimes, time.Since(start))
		start = time.Now()
		d.DecodeFile(paths[i])
		r.fileTimes = append(r.fileTimes, time.Since(start))
		switch {
		case err == nil && text == f.Text:
			r.ours++
		case err == nil:
			r.wrong++
		}
	}
	for _, c := range corpus.Classes {
		var sel []string
		var want []string
		for i, f := range frames {
			if f.Class == c {
				sel = append(sel, paths[i])
				want = append(want, f.Text)
			}
		}
		start := time.Now()
		texts, err := zbar.Run(bin, sel)
		rows[c].zbarTime = time.Since(start)
		if err != nil {
			return err
		}
		for i, p := range sel {
			if t, ok := texts[p]; ok && t == want[i] {
				rows[c].zbar++
			}
		}
	}

	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }
	med := func(ds []time.Duration) time.Duration {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	fmt.Fprintf(stdout, "corpus: seed %d, %d frames per class, 640x480; zbarimg %v\n\n", *seed, *n, zbar.Args)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tframes\tours\tzbar\twrong\tours ms median\tours+PNG ms median\tzbar ms/frame\t")
	var tot row
	var all, allFile []time.Duration
	for _, c := range corpus.Classes {
		r := rows[c]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", c, r.frames, r.ours, r.zbar, r.wrong,
			ms(med(r.oursTimes)), ms(med(r.fileTimes)), ms(r.zbarTime/time.Duration(r.frames)))
		tot.frames += r.frames
		tot.ours += r.ours
		tot.zbar += r.zbar
		tot.wrong += r.wrong
		tot.zbarTime += r.zbarTime
		all = append(all, r.oursTimes...)
		allFile = append(allFile, r.fileTimes...)
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", tot.frames, tot.ours, tot.zbar, tot.wrong,
		ms(med(all)), ms(med(allFile)), ms(tot.zbarTime/time.Duration(tot.frames)))
	if err := tw.Flush(); err != nil {
		return err
	}
	if *dir != "" {
		fmt.Fprintf(stdout, "\ncorpus kept in %s\n", *dir)
	}
	return nil
}
