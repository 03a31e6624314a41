package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
// does and reports its size (goal ≤ 20 MB).
func BenchmarkKioskBinaryARM64(b *testing.B) {
	out := filepath.Join(b.TempDir(), "kiosk-arm64")
	for b.Loop() {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("%v: %s", err, stderr.String())
		}
	}
	fi, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "MB")
}
