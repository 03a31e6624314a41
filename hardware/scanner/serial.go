package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tarm/serial"
)

// DefaultBaud is the serial speed used when SerialConfig.Baud is zero: the
// factory setting of most USB 2D scanners in serial (CDC-ACM) mode. Over USB
// CDC-ACM the speed is ignored by the device; it matters for real UARTs.
const DefaultBaud = 9600

// DefaultReadTimeout bounds each read from a device, so that [Serial.Run]
// and [Evdev.Run] notice a cancelled context within about this long.
const DefaultReadTimeout = 200 * time.Millisecond

// hangupEOFs is how many zero-byte reads in a row that return long before
// the read timeout mean the line has hung up.
const hangupEOFs = 3

// baudRates are the speeds github.com/tarm/serial can set on Linux.
var baudRates = map[int]bool{
	50: true, 75: true, 110: true, 134: true, 150: true, 200: true, 300: true,
	600: true, 1200: true, 1800: true, 2400: true, 4800: true, 9600: true,
	19200: true, 38400: true, 57600: true, 115200: true, 230400: true,
	460800: true, 500000: true, 576000: true, 921600: true, 1000000: true,
	1152000: true, 1500000: true, 2000000: true, 2500000: true, 3000000: true,
	3500000: true, 4000000: true,
}

// SerialConfig configures a [Serial] scanner. The zero value of every field
// but Path means its default.
type SerialConfig struct {
	// Path is the device, preferably a stable udev link such as
	// /dev/serial/by-id/usb-...-if00 rather than /dev/ttyACM0, whose number
	// changes when the scanner is replugged. It is resolved again on every
	// reconnect.
	Path string
	// Baud is the line speed; zero means DefaultBaud.
	Baud int
	// Exit marks this scanner as an exit (check-out) scanner.
	Exit bool
	// Source names the scanner in Scans and logs; empty means "serial:"+Path.
	Source string
	// ReadTimeout bounds each read, and so how long Run takes to return after
	// its context is cancelled; zero means DefaultReadTimeout. The terminal
	// driver counts in tenths of a second: it is rounded down to that, with a
	// minimum of 0.1 s and a maximum of 25.5 s.
	ReadTimeout time.Duration
	// BackoffMin and BackoffMax bound the jittered exponential wait between
	// reconnect attempts; zero means DefaultBackoffMin and DefaultBackoffMax.
	BackoffMin, BackoffMax time.Duration
	// MaxCodeLen is the longest code accepted; zero means DefaultMaxCodeLen.
	MaxCodeLen int
	// Now stamps Scans; nil means time.Now.
	Now func() time.Time
	// OnConnect, if not nil, is called with the resolved device path (for
	// example /dev/ttyACM1) each time the device is opened and configured.
	OnConnect func(device string)
	// OnError, if not nil, is called with every error Run recovers from: a
	// failed open, an unplug, a discarded overlong code. It must not block.
	OnError func(error)
}

// validate reports configuration errors that retrying cannot fix.
func (c SerialConfig) validate() error {
	switch {
	case c.Path == "":
		return errors.New("serial scanner: no device path")
	case c.Baud != 0 && !baudRates[c.Baud]:
		return fmt.Errorf("serial scanner %s: unsupported baud rate %d", c.Path, c.Baud)
	case c.ReadTimeout < 0, c.BackoffMin < 0, c.BackoffMax < 0, c.MaxCodeLen < 0:
		return fmt.Errorf("serial scanner %s: negative timeout, backoff or length", c.Path)
	case c.BackoffMin > 0 && c.BackoffMax > 0 && c.BackoffMin > c.BackoffMax:
		return fmt.Errorf("serial scanner %s: BackoffMin %v above BackoffMax %v", c.Path, c.BackoffMin, c.BackoffMax)
	}
	return nil
}

func (c SerialConfig) baudOrDefault() int {
	if c.Baud == 0 {
		return DefaultBaud
	}
	return c.Baud
}

func (c SerialConfig) sourceOrDefault() string {
	if c.Source == "" {
		return "serial:" + c.Path
	}
	return c.Source
}

// readTimeoutOrDefault returns the read timeout as the terminal driver will
// apply it (VTIME, in tenths of a second, 1..255).
func (c SerialConfig) readTimeoutOrDefault() time.Duration {
	d := c.ReadTimeout
	if d == 0 {
		d = DefaultReadTimeout
	}
	d = d.Truncate(100 * time.Millisecond)
	return min(max(d, 100*time.Millisecond), 25500*time.Millisecond)
}

func (c SerialConfig) nowOrDefault() func() time.Time {
	if c.Now == nil {
		return time.Now
	}
	return c.Now
}

func backoffFor(minD, maxD time.Duration) *backoff {
	if minD == 0 {
		minD = DefaultBackoffMin
	}
	if maxD == 0 {
		maxD = max(DefaultBackoffMax, minD)
	}
	return &backoff{min: minD, max: maxD}
}

// Serial is a [Scanner] for a scanner on a serial line: a USB 2D scanner in
// CDC-ACM ("USB COM port") mode, or one behind a UART. It reads through
// github.com/tarm/serial at 8N1 in raw mode and cuts codes with a [Framer],
// so CR, LF, CRLF and STX/ETX suffixes all work.
//
// # Unplug and replug
//
// When the device goes away Run closes it and reopens Path with a jittered
// exponential backoff, resolving symlinks again each time, so a
// /dev/serial/by-id link that now points at a new ttyACM is followed. Bytes
// of a code cut off by the unplug are discarded, never glued to the next
// code.
//
// tarm/serial reports a read timeout as io.EOF, and a hung-up line (unplugged
// USB device, closed pseudo-terminal) also reads as io.EOF, forever and at
// once. Serial tells them apart: a timeout takes the read timeout to arrive,
// a hang-up does not; and after every zero-byte read it checks that Path
// still names the device it opened.
//
// # Cancellation
//
// A pending read on a tarm/serial port is not interrupted by Close, so reads
// are bounded by ReadTimeout instead: Run returns within about ReadTimeout
// of its context being cancelled.
//
// # ModemManager
//
// On desktop Linux, ModemManager probes new ttyACM devices with AT commands;
// exclude the scanner with a udev rule (ENV{ID_MM_DEVICE_IGNORE}="1").
type Serial struct {
	cfg SerialConfig
	// open opens the resolved device; tests replace it.
	open func(dev string, baud int, timeout time.Duration) (io.ReadCloser, error)
}

var _ Scanner = (*Serial)(nil)

// NewSerial returns a Serial scanner for cfg, or an error if cfg is invalid.
// It does not open the device: Run does, and keeps trying until it can.
func NewSerial(cfg SerialConfig) (*Serial, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Serial{cfg: cfg, open: openTarm}, nil
}

// openTarm opens a serial port with github.com/tarm/serial: 8N1, raw mode,
// reads returning after at most timeout.
func openTarm(dev string, baud int, timeout time.Duration) (io.ReadCloser, error) {
	return serial.OpenPort(&serial.Config{Name: dev, Baud: baud, ReadTimeout: timeout})
}

// Run implements [Scanner]. It returns ctx.Err() once ctx is done; open and
// read errors are retried and passed to OnError. Run must not be called
// again before an earlier call has returned.
func (s *Serial) Run(ctx context.Context, emit func(Scan)) error {
	if err := s.cfg.validate(); err != nil {
		return err
	}
	b := backoffFor(s.cfg.BackoffMin, s.cfg.BackoffMax)
	return supervise(ctx, b, s.cfg.OnError, func(ctx context.Context, healthy func()) error {
		return s.session(ctx, emit, healthy)
	})
}

// session opens the device once and reads from it until ctx is done (nil)
// or the device fails (the error).
func (s *Serial) session(ctx context.Context, emit func(Scan), healthy func()) error {
	path := s.cfg.Path
	dev, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("serial scanner %s: resolve: %w", path, err)
	}
	opened, err := os.Stat(dev)
	if err != nil {
		return fmt.Errorf("serial scanner %s: %w", path, err)
	}
	timeout := s.cfg.readTimeoutOrDefault()
	open := s.open
	if open == nil {
		open = openTarm
	}
	port, err := open(dev, s.cfg.baudOrDefault(), timeout)
	if err != nil {
		return fmt.Errorf("serial scanner %s: open %s: %w", path, dev, err)
	}
	defer port.Close()
	if s.cfg.OnConnect != nil {
		s.cfg.OnConnect(dev)
	}

	now := s.cfg.nowOrDefault()
	source := s.cfg.sourceOrDefault()
	fr := Framer{MaxLen: s.cfg.MaxCodeLen}
	emitCode := func(code string) {
		emit(Scan{Text: code, Source: source, Exit: s.cfg.Exit, At: now()})
	}
	buf := make([]byte, 512)
	fastEOFs := 0
	for ctx.Err() == nil {
		// Real time, not cfg.Now: this measures the kernel's VTIME timer.
		start := time.Now()
		n, err := port.Read(buf)
		if n > 0 {
			fastEOFs = 0
			healthy()
			if ferr := fr.Feed(buf[:n], emitCode); ferr != nil && s.cfg.OnError != nil {
				s.cfg.OnError(fmt.Errorf("serial scanner %s: %w", path, ferr))
			}
		}
		switch {
		case err == nil:
		case n == 0 && errors.Is(err, io.EOF):
			if err := stillThere(path, opened); err != nil {
				return fmt.Errorf("serial scanner %s: %w", path, err)
			}
			if time.Since(start) >= timeout/2 {
				// An ordinary read timeout: the device is idle.
				fastEOFs = 0
				healthy()
				continue
			}
			if fastEOFs++; fastEOFs >= hangupEOFs {
				return fmt.Errorf("serial scanner %s: line hung up (end of file without waiting)", path)
			}
		default:
			return fmt.Errorf("serial scanner %s: %w", path, err)
		}
	}
	return nil
}

// stillThere reports an error unless path still resolves to the file that
// was opened.
func stillThere(path string, opened os.FileInfo) error {
	now, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("device gone: %w", err)
	}
	if !os.SameFile(opened, now) {
		return errors.New("device replaced: path now names another device")
	}
	return nil
}
