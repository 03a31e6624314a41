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
	log := env.Log
	if log == nil {
		log = slog.Default()
	}
	dev, err := LoadDevice(cfg.Data)
	if err != nil {
		return err
	}
	bundle, err := province.LoadBundle(filepath.Join(cfg.Data, FileBundle))
	if err != nil {
		return fmt.Errorf("kiosk: %w", err)
	}
	revPath := filepath.Join(cfg.Data, FileRevoked)
	rev, err := pass.LoadRevocationList(revPath)
	if err != nil {
		return fmt.Errorf("kiosk: %w", err)
	}
	clock := env.Clock
	if clock == nil {
		sc := NewSystemClock()
		sc.Offset = time.Duration(cfg.ClockOffset)
		if cfg.TrustClock && sc.Offset == 0 {
			sc.SyncedFlag = "/"
		}
		clock = sc
	}
	scanners := env.Scanners
	if scanners == nil {
		if scanners, err = buildScanners(cfg, env, log); err != nil {
			return err
		}
	}

	// The outbox before the lights: a kiosk already running holds both.
	ob, obErr := OpenOutbox(filepath.Join(cfg.Data, FileOutbox), dev.PrivateKey())
	if errors.Is(obErr, ErrLocked) {
		// Not out of order: this kiosk is already running. Stop at once,
		// without touching the scanners or the lights the other one uses.
		log.Error("outbox held by another kiosk process: not starting", "err", obErr)
		return fmt.Errorf("kiosk: %w", obErr)
	}
	if obErr == nil {
		defer ob.Close()
	}
	ind, closeInd, err := indicatorFor(cfg, env)
	if err != nil {
		return err
	}
	defer closeInd()
	if obErr != nil {
		log.Error("outbox unusable: out of order", "err", obErr,
			"hint", "restore the outbox from the corrupt copy with `kiosk outbox --data DIR` on a workstation, or re-provision with `kiosk init` in a new directory and tell the province (the sequence restarts)")
		return outOfOrder(ctx, scanners, ind, log, obErr)
	}
	_, _, online, _ := onlineSettings(cfg)
	ds := newDownSync(ob, bundle, rev, online, cfg.Debounce != 0, log)
	k, err := New(Options{
		Outbox: ob, Verifier: ds.verifier(), SealTo: ds.sealTo(),
		DebounceKey: dev.DebounceKey(), Debounce: ds.debounceWindow(cfg), ExitMode: cfg.Mode == "exit",
		Clock: clock, Indicator: ind, Logger: log,
	})
	if err != nil {
		return err
	}
	defer k.Close()
	ds.attach(k)
	pending, _ := ob.Pending()
	log.Info("kiosk started", "device", dev.ID, "venue", dev.Venue, "pending", pending,
		"scanners", len(scanners), "mode", modeName(cfg.Mode), "clock", clock.Now().Quality.String())

	var disp *display.Display // display mode: the venue's rotating code on a local page
	if cfg.Display {
		disp, err = display.New(display.Config{Device: dev.ID, Venue: dev.Venue, Key: dev.PrivateKey(), Period: time.Duration(cfg.DisplayPeriod), Log: log,
			Clock: func() (time.Time, bool) { s := clock.Now(); return s.Wall, s.Trusted() }})
		if err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	for _, s := range scanners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Run(ctx, func(sc scanner.Scan) { k.HandleScan(ctx, sc) })
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Error("scanner stopped", "err", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		maintain(ctx, cfg, ob, rev, revPath, clock, log)
	}()
	up := startOnline(ctx, &wg, cfg, env, dev, ob, k, ds, clock, log)
	if cfg.StatusListen != "off" {
		addr := cfg.StatusListen
		if addr == "" {
			addr = DefaultStatusListen
		}
		status := func() Status {
			st := Status{Device: dev.ID, Venue: dev.Venue, OutOfOrder: k.OutOfOrder()}
			st.Pending, _ = ob.Pending()
			if up != nil {
				s := up.Status()
				st.Sync = &s
			}
			return st
		}
		wg.Go(func() {
			if err := serveStatus(ctx, addr, status, log); err != nil {
				log.Warn("no status page", "err", err) // the kiosk works without it
			}
		})
	}
	if disp != nil {
		wg.Go(func() {
			if err := disp.Serve(ctx, cfg.DisplayListen); err != nil {
				log.Error("display mode stopped", "err", err)
			}
		})
	}
	wg.Wait()
	log.Info("kiosk stopped")
	return nil
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
