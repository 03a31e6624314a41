package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/pass"
)

// fillOutbox appends n records (group-committed) to a provisioned outbox.
func fillOutbox(tb testing.TB, data string, n int) {
	tb.Helper()
	dev, err := kiosk.LoadDevice(data)
	if err != nil {
		tb.Fatal(err)
	}
	ob, err := kiosk.OpenOutbox(filepath.Join(data, kiosk.FileOutbox), dev.PrivateKey())
	if err != nil {
		tb.Fatal(err)
	}
	defer ob.Close()
	sealed := make([]byte, checkin.SealedLen)
	rand.Read(sealed)
	clock := kiosk.NewSystemClock()
	var wg sync.WaitGroup
	const workers = 256
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if _, err := ob.Append(context.Background(), kiosk.Entry{At: clock.Now(), Kind: checkin.Entry, Sealed: sealed}); err != nil {
					tb.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

var rssField = "VmRSS:"

func rssKB(pid int) (int, error) {
	if f := os.Getenv("RSS_FIELD"); f != "" {
		rssField = f
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, rssField); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

// BenchmarkKioskRSS100k starts the real kiosk binary on an outbox holding
// 100,000 unsynced records, passes it scans, and reports its resident
// memory (goal ≤ 40 MB).
func BenchmarkKioskRSS100k(b *testing.B) {
	bin := buildKiosk(b)
	keys, data := provisionKiosk(b)
	fillOutbox(b, data, 100_000)
	for b.Loop() {
		master, slave := rawPTY(b)
		p := startKiosk(b, bin, data, slave.Name())
		signer := keys.Signer()
		for range 50 {
			pp := pass.Pass{Kind: pass.KindApp, Issued: time.Now().Add(-time.Hour).Truncate(time.Second), Expires: time.Now().Add(time.Hour).Truncate(time.Second)}
			rand.Read(pp.Pseudonym[:])
			text, err := signer.Issue(pp)
			if err != nil {
				b.Fatal(err)
			}
			master.WriteString(text + "\r")
			<-p.lines
		}
		time.Sleep(200 * time.Millisecond)
		kb, err := rssKB(p.cmd.Process.Pid)
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(kb)/1024, "RSS-MB")
		b.ReportMetric(float64(kb)/1024/40, "RSS-ratio-to-40MB")
	}
}

// BenchmarkKioskBinaryARM64 builds the linux/arm64 kiosk as `make cross`
// does and reports its size (goal ≤ 20 MB), and the packages that weigh
// most: the sizes of their symbols in the file (as `go tool nm -size`
// lists them, of the same build without -s -w, leaving out what takes no
// room in the file: .bss and .noptrbss), as "KB:PACKAGE" metrics for the
// ten heaviest and "KB:(other)" for the rest.
func BenchmarkKioskBinaryARM64(b *testing.B) {
	dir := b.TempDir()
	out := filepath.Join(dir, "kiosk-arm64")
	for b.Loop() {
		buildARM64(b, out, "-s -w")
	}
	fi, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "MB")
	b.StopTimer()
	syms := filepath.Join(dir, "kiosk-arm64-syms")
	buildARM64(b, syms, "")
	weights, err := packageWeights(syms)
	if err != nil {
		b.Fatal(err)
	}
	var other int64
	for i, w := range weights {
		if i < 10 {
			b.ReportMetric(float64(w.size)/1024, "KB:"+w.pkg)
		} else {
			other += w.size
		}
	}
	b.ReportMetric(float64(other)/1024, "KB:(other)")
}

// buildARM64 builds the kiosk for linux/arm64 without cgo into out.
func buildARM64(b *testing.B, out, ldflags string) {
	b.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v: %s", err, stderr.String())
	}
}

type weight struct {
	pkg  string
	size int64
}

// packageWeights sums the sizes of the ELF file's symbols that take room
// in the file by package, the heaviest first. Type descriptors, itabs and
// the like ("type:", "go:" symbols) count as "(runtime-data)".
func packageWeights(path string) ([]weight, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("package weights: %w", err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("package weights: %w", err)
	}
	by := map[string]int64{}
	for _, s := range syms {
		i := int(s.Section)
		if i <= 0 || i >= len(f.Sections) || f.Sections[i].Type == elf.SHT_NOBITS {
			continue
		}
		by[symbolPackage(s.Name)] += int64(s.Size)
	}
	ws := make([]weight, 0, len(by))
	for p, s := range by {
		ws = append(ws, weight{p, s})
	}
	sort.Slice(ws, func(i, j int) bool {
		return ws[i].size > ws[j].size || ws[i].size == ws[j].size && ws[i].pkg < ws[j].pkg
	})
	return ws, nil
}

// symbolPackage returns the import path of a symbol's package:
// "github.com/x/y.(*T).M" → "github.com/x/y", "vendor/golang.org/x/net/http2/hpack.f" → the same path.
func symbolPackage(name string) string {
	if strings.HasPrefix(name, "type:") || strings.HasPrefix(name, "go:") || !strings.Contains(name, ".") {
		return "(runtime-data)"
	}
	slash := strings.LastIndex(name, "/")
	if i := strings.Index(name[slash+1:], "."); i >= 0 {
		name = name[:slash+1+i]
	}
	return strings.ReplaceAll(name, "%2e", ".") // nm escapes a dot in the last element: nats%2ego

}
