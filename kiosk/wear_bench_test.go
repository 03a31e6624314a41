package kiosk

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/feedback"
)

// SD-card wear and start-up of the kiosk (issue 16, item 7). The metrics
// are named for the bench-report generator: bytes/checkin, years-sd,
// ms-to-ready, idle-cpu-%, rss-MB.

// The card and the venue the years of life are computed for.
const (
	// sdHostTBW is the bytes a card takes from the host before it wears
	// out: a 32 GB consumer TLC microSD card (SanDisk's High Endurance
	// line is 3D TLC: ripitapart.com's teardown of the 64/128 GB cards,
	// 2020), ~1,000 program/erase cycles per cell (a typical 3D TLC
	// rating), 32 TB of flash writes, divided by a write amplification of
	// 10 for small synchronous writes (our assumption: 4 KiB bbolt pages
	// and ext4 journal blocks rewriting far larger flash pages). Set
	// ANSHIM_SD_TBW (bytes) for another card.
	sdHostTBW = 32e9 * 1000 / 10
	// busyVenue is the check-ins per day of a busy venue: a restaurant or
	// church near Jeju City with ~3,000 entries on its busiest days.
	busyVenue = 3000
)

// writeBytes returns this process's write_bytes from /proc/self/io: the
// bytes it caused to be sent to the block device.
func writeBytes(b *testing.B) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skipf("NOT MEASURED: /proc/self/io: %v (Linux with task I/O accounting needed)", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("/proc/self/io has no write_bytes")
	return 0
}

// reportWear reports bytes written per check-in and the years of life
// of the card at a busy venue.
func reportWear(b *testing.B, written int64, checkins int) {
	tbw := float64(sdHostTBW)
	if v := os.Getenv("ANSHIM_SD_TBW"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			b.Fatalf("ANSHIM_SD_TBW=%q: %v", v, err)
		}
		tbw = f
	}
	per := float64(written) / float64(checkins)
	b.ReportMetric(per, "bytes/checkin")
	if per > 0 {
		b.ReportMetric(tbw/(per*busyVenue*365), "years-sd")
	}
}

// BenchmarkWearOneScanPerCommit measures the bytes written to the block
// device per check-in when every scan is its own commit: a quiet
// entrance, one visitor at a time (the kiosk's worst case per record:
// each commit writes its pages, the freelist and a meta page, each
// fdatasync'ed).
func BenchmarkWearOneScanPerCommit(b *testing.B) {
	e := newEnv(b)
	texts := make([]string, b.N)
	for i := range texts {
		texts[i], _ = e.issue()
	}
	// Warm: the first commits grow the file.
	for range 20 {
		t, _ := e.issue()
		e.scan(t)
	}
	b.ResetTimer()
	before := writeBytes(b)
	for i := 0; i < b.N; i++ {
		if out := e.scan(texts[i]); out.Result != feedback.Accepted {
			b.Fatalf("%+v", out)
		}
	}
	written := writeBytes(b) - before
	b.StopTimer()
	reportWear(b, written, b.N)
}

// BenchmarkWearGroupCommit measures the same with scans arriving in
// bursts of 16 (a queue at the door, several scanners): the outbox's
// writer commits each burst at once.
func BenchmarkWearGroupCommit(b *testing.B) {
	const burst = 16
	e := newEnv(b)
	texts := make([]string, b.N)
	for i := range texts {
		texts[i], _ = e.issue()
	}
	for range 20 {
		t, _ := e.issue()
		e.scan(t)
	}
	b.ResetTimer()
	before := writeBytes(b)
	for i := 0; i < b.N; i += burst {
		var wg sync.WaitGroup
		for j := i; j < min(i+burst, b.N); j++ {
			wg.Go(func() {
				if out := e.scan(texts[j]); out.Result != feedback.Accepted {
					b.Errorf("%+v", out)
				}
			})
		}
		wg.Wait()
	}
	written := writeBytes(b) - before
	b.StopTimer()
	reportWear(b, written, b.N)
}

// buildKioskBinary builds cmd/kiosk with tags into dir.
func buildKioskBinary(b *testing.B, dir, tags string) string {
	b.Helper()
	bin := filepath.Join(dir, "kiosk"+strings.ReplaceAll(tags, ",", "-"))
	cmd := exec.Command("go", "build", "-tags", tags, "-o", bin, "../cmd/kiosk")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build kiosk (tags %q): %v\n%s", tags, err, out)
	}
	return bin
}

// fillOutbox appends n records to the outbox of e, closed afterwards.
func fillOutbox(b *testing.B, e *env, n int) {
	b.Helper()
	text, p := e.issue()
	_ = text
	sealed, err := checkin.NewSealer(e.keys.SealingPublicKey(), 0, nil).Seal(personalOf(&p))
	if err != nil {
		b.Fatal(err)
	}
	at := e.clock.Now()
	var wg sync.WaitGroup
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 64 {
		wg.Go(func() {
			for range next {
				if _, err := e.outbox.Append(context.Background(), Entry{At: at, Kind: checkin.Entry, Sealed: sealed}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	e.close()
}

// procStat returns a process's CPU time (user+system) from /proc.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name in parentheses: state is field 3;
	// utime and stime are 14 and 15, in clock ticks (USER_HZ, 100).
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// procMem returns VmRSS and VmHWM of a process, in bytes.
func procMem(b *testing.B, pid int) (rss, hwm int64) {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		for key, dst := range map[string]*int64{"VmRSS:": &rss, "VmHWM:": &hwm} {
			if v, ok := strings.CutPrefix(line, key); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				*dst = kb << 10
			}
		}
	}
	return rss, hwm
}

// BenchmarkColdStart100k starts the real kiosk binary (cmd/kiosk) on a
// data directory holding 100,000 buffered check-ins (a week offline at a
// busy venue) and measures, per start: ms-to-ready (exec to the "kiosk
// started" line, logged once the outbox is open and checked and the
// scanner is open); then, on the first start, idle CPU over 5 s and RSS
// after a scrape of /metrics. Sub-benchmarks build the kiosk with its
// metrics library (VictoriaMetrics/metrics) and with client_golang
// (-tags kiosk_promclient) to compare their memory.
func BenchmarkColdStart100k(b *testing.B) {
	if testing.Short() {
		b.Skip("builds the kiosk and writes 100,000 records: not with -short")
	}
	e := newEnv(b)
	fillOutbox(b, e, 100_000)
	bins := b.TempDir()
	for _, lib := range []struct{ name, tags string }{{"victoriametrics", ""}, {"client_golang", "kiosk_promclient"}} {
		b.Run(lib.name, func(b *testing.B) {
			bin := buildKioskBinary(b, bins, lib.tags)
			var ready time.Duration
			for i := 0; i < b.N; i++ {
				d := coldStart(b, bin, e.dir, i == 0)
				ready += d
			}
			b.ReportMetric(float64(ready.Microseconds())/1000/float64(b.N), "ms-to-ready")
		})
	}
}

// coldStart runs the kiosk once on dir until it is ready and returns how
// long that took; with idle, it then measures idle CPU and RSS.
func coldStart(b *testing.B, bin, dir string, idle bool) time.Duration {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := filepath.Join(b.TempDir(), "kiosk.json")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`{"status_listen":%q}`, addr)), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--data", dir, "--config", conf, "--scanner", "stdin", "--feedback", "none", "--trust-clock")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	defer stdin.Close()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		pw.Close()
	}()
	readyc := make(chan time.Duration, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sent := false
		for sc.Scan() {
			if !sent && strings.Contains(sc.Text(), `"msg":"kiosk started"`) {
				readyc <- time.Since(start)
				sent = true
			}
		}
	}()
	var ready time.Duration
	select {
	case ready = <-readyc:
	case <-time.After(60 * time.Second):
		b.Fatal("the kiosk did not start within 60 s")
	}
	if !idle {
		return ready
	}
	b.StopTimer()
	defer b.StartTimer()
	pid := cmd.Process.Pid
	time.Sleep(time.Second) // past start-up work
	cpu0, t0 := procCPU(b, pid), time.Now()
	time.Sleep(5 * time.Second)
	cpu := procCPU(b, pid) - cpu0
	b.ReportMetric(100*cpu.Seconds()/time.Since(t0).Seconds(), "idle-cpu-%")
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "anshim_kiosk_pending_records 100000") {
		b.Errorf("metrics:\n%.500s", body)
	}
	rss, hwm := procMem(b, pid)
	b.ReportMetric(float64(rss)/(1<<20), "rss-MB")
	b.ReportMetric(float64(hwm)/(1<<20), "peak-rss-MB")
	return ready
}
