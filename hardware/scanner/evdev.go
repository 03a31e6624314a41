package scanner

import (
	"errors"
	"fmt"
	"time"
)

// EvdevConfig configures an [Evdev] scanner. The zero value of every field
// but Path means its default.
type EvdevConfig struct {
	// Path is the input device, preferably a stable udev link such as
	// /dev/input/by-id/usb-...-event-kbd rather than /dev/input/eventN, whose
	// number changes when the scanner is replugged. It is resolved again on
	// every reconnect.
	Path string
	// Exit marks this scanner as an exit (check-out) scanner.
	Exit bool
	// Source names the scanner in Scans and logs; empty means "evdev:"+Path.
	Source string
	// NoGrab leaves the device shared. By default Run grabs it (EVIOCGRAB)
	// so that the scanner's keystrokes reach neither the console nor any
	// other program.
	NoGrab bool
	// ReadTimeout bounds each read, and so how long Run takes to return after
	// its context is cancelled; zero means DefaultReadTimeout.
	ReadTimeout time.Duration
	// BackoffMin and BackoffMax bound the jittered exponential wait between
	// reconnect attempts; zero means DefaultBackoffMin and DefaultBackoffMax.
	BackoffMin, BackoffMax time.Duration
	// MaxCodeLen is the longest code accepted; zero means DefaultMaxCodeLen.
	MaxCodeLen int
	// Now stamps Scans; nil means time.Now.
	Now func() time.Time
	// OnConnect, if not nil, is called with the resolved device path (for
	// example /dev/input/event3) each time the device is opened and grabbed.
	OnConnect func(device string)
	// OnError, if not nil, is called with every error Run recovers from: a
	// failed open or grab, an unplug, a discarded code. It must not block.
	OnError func(error)
}

// validate reports configuration errors that retrying cannot fix.
func (c EvdevConfig) validate() error {
	switch {
	case c.Path == "":
		return errors.New("evdev scanner: no device path")
	case c.ReadTimeout < 0, c.BackoffMin < 0, c.BackoffMax < 0, c.MaxCodeLen < 0:
		return fmt.Errorf("evdev scanner %s: negative timeout, backoff or length", c.Path)
	case c.BackoffMin > 0 && c.BackoffMax > 0 && c.BackoffMin > c.BackoffMax:
		return fmt.Errorf("evdev scanner %s: BackoffMin %v above BackoffMax %v", c.Path, c.BackoffMin, c.BackoffMax)
	}
	return nil
}

func (c EvdevConfig) sourceOrDefault() string {
	if c.Source == "" {
		return "evdev:" + c.Path
	}
	return c.Source
}

func (c EvdevConfig) readTimeoutOrDefault() time.Duration {
	if c.ReadTimeout == 0 {
		return DefaultReadTimeout
	}
	return c.ReadTimeout
}

func (c EvdevConfig) nowOrDefault() func() time.Time {
	if c.Now == nil {
		return time.Now
	}
	return c.Now
}

// Evdev is a [Scanner] for a keyboard-wedge (USB HID keyboard) barcode
// scanner, read through the Linux evdev interface. It grabs the device so
// the typed codes do not land on the console, decodes the key events with a
// [KeyDecoder] (US layout, shift-aware, Enter ends a code) and reopens the
// device with a jittered exponential backoff after an unplug, resolving
// symlinks again each time.
//
// Configure the scanner for a US keyboard layout and an Enter suffix.
// Evdev works on Linux only; elsewhere Run returns an error wrapping
// [errors.ErrUnsupported].
type Evdev struct {
	cfg EvdevConfig
}

var _ Scanner = (*Evdev)(nil)

// NewEvdev returns an Evdev scanner for cfg, or an error if cfg is invalid.
// It does not open the device: Run does, and keeps trying until it can.
func NewEvdev(cfg EvdevConfig) (*Evdev, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Evdev{cfg: cfg}, nil
}
