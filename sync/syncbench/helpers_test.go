package syncbench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/internal/procs"
	"github.com/anshim/anshim/province"
)

// progressf writes a progress line to standard error at once (b.Logf
// shows only when the benchmark is over).
func progressf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "syncbench: "+format+"\n", args...)
}

// warnLog is the log of the central and the kiosk in a benchmark: warnings
// and errors go to standard error (the first 20 of them) and are counted;
// the rest is dropped.
type warnLog struct {
	mu      sync.Mutex
	name    string
	n       atomic.Int64
	written int
}

func newWarnLog(name string) *warnLog { return &warnLog{name: name} }

func (l *warnLog) Write(p []byte) (int, error) {
	l.n.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written < 20 {
		l.written++
		fmt.Fprintf(os.Stderr, "syncbench: %s log: %s", l.name, p)
	}
	return len(p), nil
}

func (l *warnLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// centralEnv is a started central server in a temporary directory, with
// its province keys.
type centralEnv struct {
	s    *central.Server
	cfg  central.Config
	keys *province.Keys
	log  *warnLog
}

// startCentral starts a central as `central serve` does with the default
// configuration (embedded NATS, sync_interval always, bbolt store with
// fsync), on random ports. It is closed when the benchmark ends.
func startCentral(tb testing.TB) *centralEnv {
	tb.Helper()
	return startCentralStore(tb, "bolt")
}

// startCentralStore is startCentral with the store backend: "bolt", or
// "pg" for a PostgreSQL database of its own on ANSHIM_TEST_PG's server
// (pgtest: skipped loudly without it), dropped when the benchmark ends.
func startCentralStore(tb testing.TB, backend string) *centralEnv {
	tb.Helper()
	dir := tb.TempDir()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		tb.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "province")); err != nil {
		tb.Fatal(err)
	}
	cfg := central.Config{
		Data: dir,
		HTTP: "127.0.0.1:0",
		NATS: central.NATSConfig{Listen: "127.0.0.1:-1", SyncInterval: "always", Insecure: true},
	}
	if backend == "pg" {
		cfg.Store = pgtest.NewDatabase(tb)
	}
	log := newWarnLog("central")
	s, err := central.New(cfg, log.logger())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close central: %v", err)
		}
	})
	return &centralEnv{s: s, cfg: cfg, keys: keys, log: log}
}

// conn connects to the central's NATS server as the central's own user
// (all permissions).
func (c *centralEnv) conn(tb testing.TB, name string) *nats.Conn {
	tb.Helper()
	opt, err := nats.NkeyOptionFromSeed(c.cfg.NKeyFileOrDefault())
	if err != nil {
		tb.Fatal(err)
	}
	nc, err := nats.Connect(c.s.NATSURL(), opt, nats.Name(name),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			progressf("%s: NATS error: %v", name, err)
		}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// totals sums the central's per-device state.
type totals struct {
	devices                            int
	records, quarantined, breaks, last uint64
}

func (c *centralEnv) totals(tb testing.TB) totals {
	tb.Helper()
	ds, err := c.s.Devices(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	var t totals
	t.devices = len(ds)
	for _, d := range ds {
		t.records += d.Records
		t.quarantined += d.Quarantined
		t.breaks += d.Breaks
		t.last += d.LastSeq
	}
	return t
}

// sealPool returns n real sealed personal parts, sealed to pub by
// checkin.Sealer on every core.
func sealPool(tb testing.TB, pub *[32]byte, n int) [][]byte {
	tb.Helper()
	out := make([][]byte, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for w := range workers {
		wg.Go(func() {
			s := checkin.NewSealer(pub, 0, nil)
			defer s.Close()
			for i := w; i < n; i += workers {
				p := checkin.Personal{PassKind: 1, Serial: uint32(i)}
				rand.Read(p.Pseudonym[:])
				var err error
				if out[i], err = s.Seal(p); err != nil {
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		tb.Fatal("seal failed")
	}
	return out
}

// The opening limit: checkin.Open on all cores, records/s. BenchmarkBaselineOpen
// sets it; a benchmark run without it measures it itself.
var openLimit struct {
	mu   sync.Mutex
	rate float64
	n    int // b.N it was measured with; the longest run wins
}

func setOpenLimit(rate float64, n int) {
	openLimit.mu.Lock()
	defer openLimit.mu.Unlock()
	if n >= openLimit.n {
		openLimit.rate, openLimit.n = rate, n
	}
}

// openingLimit returns the opening limit of this run: BenchmarkBaselineOpen's,
// or measured now for 3 s if it did not run (or ran too briefly).
func openingLimit(tb testing.TB) float64 {
	openLimit.mu.Lock()
	rate, n := openLimit.rate, openLimit.n
	openLimit.mu.Unlock()
	if n >= 10_000 {
		return rate
	}
	rate = measureOpen(tb, 3*time.Second)
	progressf("opening limit measured: %.0f records/s", rate)
	setOpenLimit(rate, 10_000)
	return rate
}

var openPool struct {
	once      sync.Once
	sealed    [][]byte
	pub, priv *[32]byte
}

// measureOpen measures the opening limit now, for d: checkin.Open on
// one goroutine per core, records/s. The long benchmarks measure it right
// before and right after their timed part too, because the cores are
// shared and other work on the machine moves both figures.
func measureOpen(tb testing.TB, d time.Duration) float64 {
	openPool.once.Do(func() {
		keys, err := province.Generate(nil, "jeju")
		if err != nil {
			panic(err)
		}
		openPool.pub, openPool.priv = keys.SealingPublicKey(), keys.SealingPrivateKey()
		openPool.sealed = sealPool(tb, openPool.pub, 1024)
	})
	sealed, pub, priv := openPool.sealed, openPool.pub, openPool.priv
	var count atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range runtime.NumCPU() { // GOMAXPROCS is twice that: TestMain
		wg.Go(func() {
			n := 0
			for i := w * 97; time.Now().Before(deadline); i++ {
				if _, err := checkin.Open(sealed[i%len(sealed)], pub, priv); err != nil {
					panic(err)
				}
				n++
			}
			count.Add(int64(n))
		})
	}
	wg.Wait()
	return float64(count.Load()) / time.Since(start).Seconds()
}

// bracket is the opening limit measured right before and right after a
// long benchmark's timed part.
type bracket struct{ before, after float64 }

func (br bracket) mean() float64 { return (br.before + br.after) / 2 }

func (br bracket) String() string {
	return fmt.Sprintf("%.0f/s (%.0f before, %.0f after)", br.mean(), br.before, br.after)
}

// The raw publish baseline (window 8, the uplink's default), MB/s.
var rawPublish struct {
	mu   sync.Mutex
	mbps float64
	n    int
}

func setRawPublish(mbps float64, n int) {
	rawPublish.mu.Lock()
	defer rawPublish.mu.Unlock()
	if n >= rawPublish.n {
		rawPublish.mbps, rawPublish.n = mbps, n
	}
}

func rawPublishMBps() float64 {
	rawPublish.mu.Lock()
	defer rawPublish.mu.Unlock()
	return rawPublish.mbps
}

// mem is the process's memory: the Go heap in use, all memory the Go
// runtime holds from the OS, and the resident set. The central runs in
// the benchmark's process, so these are the central's (with the little
// the load generator holds).
//
// rss is VmRSS: rssAnon (the heap, stacks, NATS buffers) plus rssFile,
// the pages of memory-mapped files the process touched — bbolt maps the
// whole store file, so a store being filled shows there. Sys is what the
// Go runtime obtained from the OS over the process's life (it never goes
// down, so it includes earlier benchmarks of the same run).
type mem struct {
	heapInuse, sys, rss, rssAnon, rssFile uint64
}

func readMem() mem {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{heapInuse: ms.HeapInuse, sys: ms.Sys,
		rss: procStatus("VmRSS"), rssAnon: procStatus("RssAnon"), rssFile: procStatus("RssFile")}
}

func (m *mem) max(o mem) {
	m.heapInuse = max(m.heapInuse, o.heapInuse)
	m.sys = max(m.sys, o.sys)
	m.rss = max(m.rss, o.rss)
	m.rssAnon = max(m.rssAnon, o.rssAnon)
	m.rssFile = max(m.rssFile, o.rssFile)
}

func (m mem) String() string {
	return fmt.Sprintf("heap-inuse %.1f MB, sys %.1f MB, rss %.1f MB (anon %.1f, file %.1f)",
		mb(m.heapInuse), mb(m.sys), mb(m.rss), mb(m.rssAnon), mb(m.rssFile))
}

// cpuTime is the CPU time (user + system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineBusy returns the CPU time all processes of the machine used so
// far (user, nice, system, irq, softirq, steal from /proc/stat), to tell
// how much of the machine other work took during a measurement (the cores
// are shared).
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks uint64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		v, _ := strconv.ParseUint(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// usage is the CPU used over a measurement, in cores: by this process and
// by the whole machine.
type usage struct {
	wall          time.Time
	self, machine time.Duration
}

func startUsage() usage { return usage{time.Now(), cpuTime(), machineBusy()} }

// cores returns the cores this process and the machine used since u.
func (u usage) cores() (self, machine float64) {
	d := time.Since(u.wall).Seconds()
	return (cpuTime() - u.self).Seconds() / d, (machineBusy() - u.machine).Seconds() / d
}

// profileFlag writes a CPU profile of the timed part of the long
// benchmarks (not their setup) to PREFIX-NAME.pprof.
var profileFlag = flag.String("syncbench.cpuprofile", "", "write a CPU profile of the timed part of CatchUp and IngestKiosks to `prefix`-NAME.pprof")

// traceFlag writes an execution trace of 5 s of BenchmarkIngestKiosks'
// measured window (for go tool trace -pprof=sync|syscall|sched).
var traceFlag = flag.String("syncbench.trace", "", "write an execution trace of 5 s of IngestKiosks' load to `file`")

// traceFor writes an execution trace of the next d to the file of
// -syncbench.trace, if given, in the background.
func traceFor(tb testing.TB, d time.Duration) {
	if *traceFlag == "" {
		return
	}
	f, err := os.Create(*traceFlag)
	if err != nil {
		tb.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		tb.Fatal(err)
	}
	time.AfterFunc(d, func() {
		trace.Stop()
		f.Close()
		progressf("trace written to %s", *traceFlag)
	})
}

// startProfile starts the CPU profile of the timed part of a benchmark,
// if asked for; the returned function stops it.
func startProfile(tb testing.TB, name string) func() {
	if *profileFlag == "" {
		return func() {}
	}
	f, err := os.Create(*profileFlag + "-" + name + ".pprof")
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		tb.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func mb(n uint64) float64 { return float64(n) / 1e6 }

// procStatus returns a "kB" field of /proc/self/status in bytes (0 if
// unknown).
func procStatus(field string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, _ := strconv.ParseUint(f[0], 10, 64)
		return kb * 1024
	}
	return 0
}

var _ io.Writer = (*warnLog)(nil)

// TestMain runs the benchmarks with the scheduler the central binary sets
// up (internal/procs: twice as many Ps as cores), since the central runs
// in this process.
func TestMain(m *testing.M) {
	procs.ForFsync(os.Getenv)
	os.Exit(m.Run())
}
