package kiosk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/anshim/anshim/hardware/camera"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/kiosk/display"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
)

// Env is what the daemon needs from the outside world; main wires the real
// ones, tests may replace any.
type Env struct {
	Log       *slog.Logger
	Clock     Clock              // nil: the system clock per Config
	Indicator feedback.Indicator // nil: per Config.Feedback
	Stdin     io.Reader          // for the stdin scanner
	Stderr    io.Writer          // terminal feedback
	// Scanners replaces the scanners of Config.Scanners (tests, demos).
	Scanners []scanner.Scanner
	// Uplink adjusts the uplink's configuration before it starts (tests:
	// short timeouts and backoffs).
	Uplink func(*uplink.Config)
	// Notify tells the service manager the daemon's state (sd_notify):
	// READY=1 once the outbox is open and the scanners started, then
	// WATCHDOG=1 pings while Health is healthy. Nil: not under systemd.
	Notify Notifier
	// Watchdog is systemd's WatchdogSec (WATCHDOG_USEC); pings go at half
	// of it. Zero: no pings.
	Watchdog time.Duration
	// Health tracks the scan loops and outbox commits for the watchdog
	// (nil: NewHealth(time.Now, DefaultStuckAfter)).
	Health *Health
}

// Run runs the kiosk until ctx is done: it opens the outbox, starts every
// scanner, records and answers scans, and destroys expired records. An
// enrolled kiosk (DATA/nats.json) also syncs with the central: it sends
// the outbox and follows the down-sync buckets, whose last known values it
// keeps in the outbox file and applies from the start, also offline. A
// corrupt outbox does not stop the daemon: it stays up in the out-of-order
// state (red light, every scan refused) so visitors are told, and the error
// says what to do. An outbox held by another kiosk process makes Run return
// an error wrapping ErrLocked at once.
func Run(ctx context.Context, cfg Config, env Env) error {
	if err := cfg.Validate(); err != nil && env.Scanners == nil {
		return err
	}
	d, err := load(cfg, env)
	if err != nil {
		return err
	}
	// The outbox before the lights: a kiosk already running holds both.
	obErr := d.openOutbox()
	if errors.Is(obErr, ErrLocked) {
		// Not out of order: this kiosk is already running. Stop at once,
		// without touching the scanners or the lights the other one uses.
		d.log.Error("outbox held by another kiosk process: not starting", "err", obErr)
		return fmt.Errorf("kiosk: %w", obErr)
	}
	if obErr == nil {
		defer d.ob.Close()
	}
	ind, closeInd, err := indicatorFor(cfg, env)
	if err != nil {
		return err
	}
	defer closeInd()
	d.ind = ind
	if obErr != nil {
		d.log.Error("outbox unusable: out of order", "err", obErr,
			"hint", "restore the outbox from the corrupt copy with `kiosk outbox --data DIR` on a workstation, or re-provision with `kiosk init` in a new directory and tell the province (the sequence restarts)")
		// Up and answering "out of order": a restart would not mend the file.
		d.notifyState("STATUS=out of order: outbox unusable")
		d.startWatchdog(ctx)
		err := outOfOrder(ctx, d.scanners, ind, d.log, obErr)
		d.wg.Wait()
		return err
	}
	d.ob.health.Store(d.health)
	if err := d.newKiosk(); err != nil {
		return err
	}
	defer d.k.Close()
	if err := d.newDisplay(); err != nil {
		return err
	}
	d.start(ctx)
	d.startWatchdog(ctx)
	d.wg.Wait()
	d.log.Info("kiosk stopped")
	return nil
}

// daemon is one run of the kiosk: its configuration, the outside world,
// and what Run's steps open, in the order they open it.
type daemon struct {
	cfg      Config
	env      Env
	log      *slog.Logger
	dev      *Device
	bundle   *province.Bundle
	rev      *pass.RevocationList // the revocation list file, reloaded by maintain
	revPath  string
	clock    Clock
	scanners []scanner.Scanner

	ob   *Outbox
	ind  feedback.Indicator
	ds   *downSync
	k    *Kiosk
	disp *display.Display // display mode: the venue's rotating code on a local page
	up   *uplink.Uplink   // nil while offline

	wg sync.WaitGroup // every goroutine start starts

	health *Health // the scan loops and outbox commits, for the watchdog
}

// load reads the device, the bundle and the revocation list from the data
// directory, and picks the clock and the scanners.
func load(cfg Config, env Env) (*daemon, error) {
	d := &daemon{cfg: cfg, env: env, log: env.Log, clock: env.Clock, scanners: env.Scanners,
		revPath: filepath.Join(cfg.Data, FileRevoked), health: env.Health}
	if d.health == nil {
		d.health = NewHealth(time.Now, DefaultStuckAfter)
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	var err error
	if d.dev, err = LoadDevice(cfg.Data); err != nil {
		return nil, err
	}
	if d.bundle, err = province.LoadBundle(filepath.Join(cfg.Data, FileBundle)); err != nil {
		return nil, fmt.Errorf("kiosk: %w", err)
	}
	if d.rev, err = pass.LoadRevocationList(d.revPath); err != nil {
		return nil, fmt.Errorf("kiosk: %w", err)
	}
	if d.clock == nil {
		sc := NewSystemClock()
		sc.Offset = time.Duration(cfg.ClockOffset)
		if cfg.TrustClock && sc.Offset == 0 {
			sc.SyncedFlag = "/"
		}
		d.clock = sc
	}
	if d.scanners == nil {
		if d.scanners, err = buildScanners(cfg, env, d.log); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// openOutbox opens the outbox; on error d.ob is nil.
func (d *daemon) openOutbox() error {
	ob, err := OpenOutbox(filepath.Join(d.cfg.Data, FileOutbox), d.dev.PrivateKey())
	if err != nil {
		return err
	}
	d.ob = ob
	return nil
}

// newKiosk makes the Kiosk that records scans, with the down-sync's last
// known values applied, and logs the start.
func (d *daemon) newKiosk() error {
	_, _, online, _ := onlineSettings(d.cfg)
	d.ds = newDownSync(d.ob, d.bundle, d.rev, online, d.cfg.Debounce != 0, d.log)
	k, err := New(Options{
		Outbox: d.ob, Verifier: d.ds.verifier(), SealTo: d.ds.sealTo(),
		DebounceKey: d.dev.DebounceKey(), Debounce: d.ds.debounceWindow(d.cfg), ExitMode: d.cfg.Mode == "exit",
		Clock: d.clock, Indicator: d.ind, Logger: d.log,
	})
	if err != nil {
		return err
	}
	d.k = k
	d.ds.attach(k)
	pending, _ := d.ob.Pending()
	d.log.Info("kiosk started", "device", d.dev.ID, "venue", d.dev.Venue, "pending", pending,
		"scanners", len(d.scanners), "mode", modeName(d.cfg.Mode), "clock", d.clock.Now().Quality.String())
	return nil
}

// newDisplay makes the display of display mode (Config.Display).
func (d *daemon) newDisplay() error {
	if !d.cfg.Display {
		return nil
	}
	clock, ob, venue := d.clock, d.ob, d.dev.Venue
	disp, err := display.New(display.Config{Device: d.dev.ID, Venue: d.dev.Venue, Key: d.dev.PrivateKey(), Period: time.Duration(d.cfg.DisplayPeriod), Log: d.log,
		Clock: func() (time.Time, bool) { s := clock.Now(); return s.Wall, s.Trusted() },
		// The venue's name and category from the down-sync (cached).
		VenueInfo: func() (string, string) { return CachedVenue(ob, venue) }})
	if err != nil {
		return err
	}
	d.disp = disp
	return nil
}

// start starts in d.wg the scanners, the maintenance, the sync, the
// status page and the display, each until ctx is done.
func (d *daemon) start(ctx context.Context) {
	for i, s := range d.scanners {
		loop := fmt.Sprintf("scanner %d", i+1)
		d.wg.Go(func() {
			err := s.Run(ctx, func(sc scanner.Scan) {
				end := d.health.Begin(loop)
				defer end()
				d.k.HandleScan(ctx, sc)
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				d.log.Error("scanner stopped", "err", err)
				d.health.Stopped(loop, err)
			}
		})
	}
	d.wg.Go(func() { maintain(ctx, d.cfg, d.ob, d.rev, d.revPath, d.clock, d.log) })
	d.up = d.startOnline(ctx)
	if d.cfg.StatusListen != "off" {
		addr := d.cfg.StatusListen
		if addr == "" {
			addr = DefaultStatusListen
		}
		d.wg.Go(func() {
			if err := serveStatus(ctx, addr, d.status, d.log); err != nil {
				d.log.Warn("no status page", "err", err) // the kiosk works without it
			}
		})
	}
	if d.disp != nil {
		d.wg.Go(func() {
			if err := d.disp.Serve(ctx, d.cfg.DisplayListen); err != nil {
				d.log.Error("display mode stopped", "err", err)
			}
		})
	}
}

// status is what the status page shows.
func (d *daemon) status() Status {
	st := Status{Device: d.dev.ID, Venue: d.dev.Venue, OutOfOrder: d.k.OutOfOrder()}
	st.Pending, _ = d.ob.Pending()
	if d.up != nil {
		s := d.up.Status()
		st.Sync = &s
	}
	return st
}

func modeName(m string) string {
	if m == "" {
		return "entry"
	}
	return m
}

// maintain destroys expired records and re-reads the revocation list.
func maintain(ctx context.Context, cfg Config, ob *Outbox, rev *pass.RevocationList, revPath string, clock Clock, log *slog.Logger) {
	var revMod time.Time
	if fi, err := os.Stat(revPath); err == nil {
		revMod = fi.ModTime()
	}
	t := time.NewTicker(cfg.MaintenanceOrDefault())
	defer t.Stop()
	for {
		n, err := ob.DestroyExpired(clock.Now(), cfg.RetentionOrDefault(), max(cfg.DebounceOrDefault(), 0))
		switch {
		case err != nil:
			log.Error("retention", "err", err)
		case n > 0:
			log.Warn("destroyed unsynced records past retention", "count", n)
		}
		if fi, err := os.Stat(revPath); err == nil && !fi.ModTime().Equal(revMod) {
			if fresh, err := pass.LoadRevocationList(revPath); err != nil {
				log.Error("revocation list", "err", err)
			} else {
				syncRevocations(rev, fresh)
				revMod = fi.ModTime()
				log.Info("revocation list reloaded", "revoked", rev.Len())
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// outOfOrder keeps the kiosk answering "out of order" until ctx is done.
func outOfOrder(ctx context.Context, scanners []scanner.Scanner, ind feedback.Indicator, log *slog.Logger, cause error) error {
	if ind != nil {
		ind.Indicate(ctx, feedback.Event{Result: feedback.OutOfOrder, Reason: ReasonStorage})
	}
	var wg sync.WaitGroup
	for _, s := range scanners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Run(ctx, func(scanner.Scan) {
				log.Info("scan", "result", "rejected", "reason", ReasonStorage)
				if ind != nil {
					ind.Indicate(ctx, feedback.Event{Result: feedback.OutOfOrder, Reason: ReasonStorage})
				}
			})
		}()
	}
	wg.Wait()
	return fmt.Errorf("kiosk: out of order: %w", cause)
}

func indicatorFor(cfg Config, env Env) (feedback.Indicator, func(), error) {
	if env.Indicator != nil {
		return env.Indicator, func() {}, nil
	}
	switch cfg.Feedback {
	case "none":
		return nil, func() {}, nil
	case "gpio":
		g, err := feedback.OpenGPIO(cfg.GPIO.config())
		if err != nil {
			return nil, nil, fmt.Errorf("kiosk: %w", err)
		}
		return g, func() { g.Close() }, nil
	}
	w := env.Stderr
	if w == nil {
		w = os.Stderr
	}
	return feedback.NewTerminal(w, feedback.ColorAuto), func() {}, nil
}

func buildScanners(cfg Config, env Env, log *slog.Logger) ([]scanner.Scanner, error) {
	var out []scanner.Scanner
	for _, spec := range cfg.Scanners {
		sp, err := ParseScannerSpec(spec)
		if err != nil {
			return nil, err
		}
		exit := sp.Exit || cfg.Mode == "exit"
		onErr := func(err error) { log.Warn("scanner", "scanner", spec, "err", err) }
		switch sp.Type {
		case "serial":
			s, err := scanner.NewSerial(scanner.SerialConfig{Path: sp.Path, Baud: sp.Baud, Exit: exit, OnError: onErr,
				OnConnect: func(dev string) { log.Info("scanner connected", "scanner", spec, "device", dev) }})
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		case "evdev":
			s, err := newEvdev(sp, exit, onErr)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		case "camera":
			s, err := newCamera(sp, exit, env, onErr)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		case "stdin":
			in := env.Stdin
			if in == nil {
				in = os.Stdin
			}
			out = append(out, &lineScanner{r: in, exit: exit, log: log})
		}
	}
	return out, nil
}

// lineScanner reads one code per line (development: `kiosk run --scanner
// stdin`). Lines are cut by a [scanner.Framer], as a serial scanner's bytes
// are: CR, LF or CRLF end a code, control bytes are dropped, and a line
// longer than maxLen is discarded — logged with its length, never its
// content — while reading goes on with the next line. (A bufio.Scanner
// would stop for good at a line over 64 KiB.)
type lineScanner struct {
	r      io.Reader
	exit   bool
	log    *slog.Logger
	maxLen int // zero: scanner.DefaultMaxCodeLen
}

// Run implements scanner.Scanner. At the end of the input it waits for ctx.
func (l *lineScanner) Run(ctx context.Context, emit func(scanner.Scan)) error {
	log := l.log
	if log == nil {
		log = slog.Default()
	}
	codes := make(chan string)
	go func() {
		defer close(codes)
		err := l.read(func(code string) bool {
			select {
			case codes <- code:
				return true
			case <-ctx.Done():
				return false
			}
		}, func(n int) {
			log.Warn("scanner: code too long, discarded", "scanner", "stdin", "bytes", n, "max", l.maxLenOrDefault())
		})
		if err != nil && ctx.Err() == nil {
			log.Error("scanner stopped", "scanner", "stdin", "err", err)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case code, ok := <-codes:
			if !ok {
				<-ctx.Done()
				return ctx.Err()
			}
			emit(scanner.Scan{Text: code, Source: "stdin", Exit: l.exit, At: time.Now()})
		}
	}
}

func (l *lineScanner) maxLenOrDefault() int {
	if l.maxLen > 0 {
		return l.maxLen
	}
	return scanner.DefaultMaxCodeLen
}

// read reads codes until the end of the input (nil) or a read error, and
// calls code for each (false: stop) and tooLong with the length in bytes of
// each line discarded. It never holds more than maxLen bytes of a line.
func (l *lineScanner) read(code func(string) bool, tooLong func(int)) error {
	fr := scanner.Framer{MaxLen: l.maxLenOrDefault()}
	var out []string
	collect := func(c string) { out = append(out, c) }
	lineLen, over := 0, false
	// feed passes one line's bytes (its terminator included, if any) to
	// the framer and reports a discarded line at its end.
	feed := func(seg []byte, ends bool) {
		if fr.Feed(seg, collect) != nil {
			over = true
		}
		lineLen += len(seg)
		if ends {
			if over {
				tooLong(lineLen - 1) // without the terminator
			}
			lineLen, over = 0, false
		}
	}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := l.r.Read(buf)
		for p := buf[:n]; len(p) > 0; {
			i := bytes.IndexAny(p, "\r\n\x03")
			if i < 0 {
				feed(p, false)
				break
			}
			feed(p[:i+1], true)
			p = p[i+1:]
		}
		if rerr != nil {
			feed([]byte{'\n'}, true) // a last line without a line end
		}
		for _, c := range out {
			if !code(c) {
				return nil
			}
		}
		out = out[:0]
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("read standard input: %w", rerr)
		}
	}
}

// syncRevocations makes dst hold exactly the ids of src, in place, so the
// running verifier sees the new list.
func syncRevocations(dst, src *pass.RevocationList) {
	keep := map[string]bool{}
	for _, id := range src.IDs() {
		keep[id] = true
		dst.Add(id)
	}
	for _, id := range dst.IDs() {
		if !keep[id] {
			dst.Remove(id)
		}
	}
}

func newEvdev(sp ScannerSpec, exit bool, onErr func(error)) (scanner.Scanner, error) {
	return scanner.NewEvdev(scanner.EvdevConfig{Path: sp.Path, Exit: exit, OnError: onErr})
}

// newCamera reads an MJPEG stream from a file or fifo, or from standard
// input for "camera:-" (`rpicam-vid --codec mjpeg -o - | kiosk run ...`).
func newCamera(sp ScannerSpec, exit bool, env Env, onErr func(error)) (scanner.Scanner, error) {
	open := func() (io.ReadCloser, error) { return os.Open(sp.Path) }
	if sp.Path == "-" {
		in := env.Stdin
		if in == nil {
			in = os.Stdin
		}
		open = func() (io.ReadCloser, error) { return io.NopCloser(in), nil }
	}
	return camera.NewMJPEG(camera.MJPEGConfig{Open: open, Source: "camera:" + sp.Path, Exit: exit, OnError: onErr})
}
