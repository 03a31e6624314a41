package kiosk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anshim/anshim/hardware/feedback"
)

// Config configures `kiosk run`. A JSON file gives it; command-line flags
// override the file. Zero values mean the defaults documented per field.
type Config struct {
	// Data is the kiosk's data directory (made by `kiosk init`).
	Data string `json:"data"`
	// Scanners are the input devices, each "TYPE:PATH[,OPTION...]":
	//   serial:/dev/serial/by-id/usb-...[,BAUD][,exit]   USB scanner in serial/CDC-ACM mode
	//   evdev:/dev/input/by-id/usb-...-event-kbd[,exit]   keyboard-wedge (HID) scanner
	//   camera:PATH[,exit]   MJPEG stream from a pipe or file ("-" = standard input)
	//   stdin[:exit]         one code per line on standard input (development)
	Scanners []string `json:"scanners"`
	// Mode is "entry" (default) or "exit": an exit kiosk records check-outs.
	Mode string `json:"mode"`
	// Debounce is the window in which the same pass at this kiosk is
	// "already checked in" (default 10m; "0s" keeps the default,
	// "-1s" disables).
	Debounce Duration `json:"debounce"`
	// Retention is how long an unsynced record is kept on the device
	// (default 28 days, the province's retention for visit records).
	Retention Duration `json:"retention"`
	// Feedback is "terminal" (default: coloured lines on standard error),
	// "gpio" (LEDs, buzzer, relay per GPIO) or "none".
	Feedback string `json:"feedback"`
	// GPIO names the pins for Feedback "gpio".
	GPIO GPIOPins `json:"gpio"`
	// TrustClock treats the wall clock as synchronised even without
	// systemd-timesyncd's flag file or an RTC (a kiosk with chrony, a
	// development machine).
	TrustClock bool `json:"trust_clock"`
	// ClockOffset shifts the kiosk's wall clock (tests and demos of a wrong
	// clock); the clock then counts as unsynced.
	ClockOffset Duration `json:"clock_offset"`
	// Maintenance is how often expired records and debounce entries are
	// removed and the revocation list re-read (default 1m); an enrolled
	// kiosk also logs its sync status this often.
	Maintenance Duration `json:"maintenance"`
	// NATSURLs replace the central's NATS server URLs that enrollment wrote
	// to DATA/nats.json (another route to the same central).
	NATSURLs []string `json:"nats_urls,omitempty"`
	// Offline keeps an enrolled kiosk from syncing: it records check-ins
	// and keeps them until it runs online again.
	Offline bool `json:"offline,omitempty"`
	// NATSInsecure lets the kiosk sync without TLS when its enrollment
	// gave no NATS CA (DATA/nats-ca.pem) and its NATS URLs are nats://.
	// Without it such a kiosk refuses to sync; with it, every start logs a
	// WARN line. A kiosk with a CA always uses TLS.
	NATSInsecure bool `json:"nats_insecure,omitempty"`
	// Display turns on display mode: a full-screen local page with the
	// venue's rotating signed code for the visitor's app (kiosk/display),
	// shown only while the clock is trusted.
	Display bool `json:"display,omitempty"`
	// StatusListen is where the status page (/status, /metrics) is served
	// (default 127.0.0.1:8081; "off" disables it).
	StatusListen string `json:"status_listen,omitempty"`
	// DisplayListen is the display page's address (default 127.0.0.1:8080).
	DisplayListen string `json:"display_listen,omitempty"`
	// DisplayPeriod is how long one display code is shown (default 30s;
	// whole seconds, 10s to 5m).
	DisplayPeriod Duration `json:"display_period,omitempty"`
	// CheckpointPoll is how often an enrolled kiosk fetches the ledger's
	// latest checkpoint and checks it against the one it holds, so that a
	// log cut short is caught without any batch being sent (default 3m,
	// with up to a fifth of jitter; docs/ledger.md).
	CheckpointPoll Duration `json:"checkpoint_poll,omitempty"`
}

// GPIOPins names the feedback pins as periph.io knows them ("GPIO17").
type GPIOPins struct {
	Green  string `json:"green"`
	Red    string `json:"red"`
	Buzzer string `json:"buzzer,omitempty"`
	Relay  string `json:"relay,omitempty"`
	// ActiveLow drives LEDs and buzzer low to turn them on.
	ActiveLow bool `json:"active_low,omitempty"`
	// RelayActiveLow drives the relay low to energise it (most relay boards).
	RelayActiveLow bool `json:"relay_active_low,omitempty"`
	// RelayPulse is how long the door relay opens on an accepted scan.
	RelayPulse Duration `json:"relay_pulse,omitempty"`
}

func (g GPIOPins) config() feedback.GPIOConfig {
	return feedback.GPIOConfig{Green: g.Green, Red: g.Red, Buzzer: g.Buzzer, Relay: g.Relay,
		ActiveLow: g.ActiveLow, RelayActiveLow: g.RelayActiveLow, RelayPulse: time.Duration(g.RelayPulse)}
}

// Duration is a time.Duration written as "10m", "28d" or "1h30m" in JSON.
type Duration time.Duration

// ParseDuration parses a Go duration, also accepting a whole number of days
// as "28d".
func ParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"10m\": %w", err)
	}
	v, err := ParseDuration(s)
	*d = Duration(v)
	return err
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// String implements flag.Value.
func (d *Duration) String() string { return time.Duration(*d).String() }

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	*d = Duration(v)
	return err
}

// LoadConfig reads a JSON config file. Unknown fields are errors, so a typo
// does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("load config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("load config %s: %w", path, err)
	}
	return c, nil
}

// DebounceOrDefault returns the debounce window (negative: disabled).
func (c Config) DebounceOrDefault() time.Duration {
	if c.Debounce == 0 {
		return 10 * time.Minute
	}
	return time.Duration(c.Debounce)
}

// RetentionOrDefault returns the on-device retention period.
func (c Config) RetentionOrDefault() time.Duration {
	if c.Retention == 0 {
		return 28 * 24 * time.Hour
	}
	return time.Duration(c.Retention)
}

// MaintenanceOrDefault returns the maintenance interval.
func (c Config) MaintenanceOrDefault() time.Duration {
	if c.Maintenance == 0 {
		return time.Minute
	}
	return time.Duration(c.Maintenance)
}

// Validate checks the configuration for errors a restart cannot fix.
func (c Config) Validate() error {
	if c.Data == "" {
		return fmt.Errorf("config: no data directory (--data DIR)")
	}
	switch c.Mode {
	case "", "entry", "exit":
	default:
		return fmt.Errorf("config: mode %q: use entry or exit", c.Mode)
	}
	switch c.Feedback {
	case "", "terminal", "gpio", "none":
	default:
		return fmt.Errorf("config: feedback %q: use terminal, gpio or none", c.Feedback)
	}
	if len(c.Scanners) == 0 {
		return fmt.Errorf("config: no scanner (--scanner serial:/dev/serial/by-id/... or stdin)")
	}
	for _, s := range c.Scanners {
		if _, err := ParseScannerSpec(s); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	if c.Retention < 0 || c.Maintenance < 0 {
		return fmt.Errorf("config: negative retention or maintenance interval")
	}
	if p := time.Duration(c.DisplayPeriod); p != 0 && (p < 10*time.Second || p > 5*time.Minute || p%time.Second != 0) {
		return fmt.Errorf("config: display period %v: use whole seconds from 10s to 5m", p)
	}
	if p := time.Duration(c.CheckpointPoll); p != 0 && (p < time.Second || p > 24*time.Hour) {
		return fmt.Errorf("config: checkpoint poll %v: use 1s to 24h (default 3m)", p)
	}
	for _, u := range c.NATSURLs {
		if strings.TrimSpace(u) == "" || strings.ContainsAny(u, ", \t\n") {
			return fmt.Errorf("config: NATS URL %q: want one URL such as nats://central.example:4222", u)
		}
	}
	return nil
}

// ScannerSpec is a parsed scanner description.
type ScannerSpec struct {
	Type string // serial, evdev, camera, stdin
	Path string
	Baud int
	Exit bool
}

// ParseScannerSpec parses "TYPE:PATH[,OPTION...]" (see Config.Scanners).
func ParseScannerSpec(s string) (ScannerSpec, error) {
	typ, rest, _ := strings.Cut(s, ":")
	sp := ScannerSpec{Type: typ}
	parts := strings.Split(rest, ",")
	sp.Path = parts[0]
	for _, opt := range parts[1:] {
		switch {
		case opt == "exit":
			sp.Exit = true
		case typ == "serial" && opt != "":
			b, err := strconv.Atoi(opt)
			if err != nil || b <= 0 {
				return sp, fmt.Errorf("scanner %q: option %q: want a baud rate or \"exit\"", s, opt)
			}
			sp.Baud = b
		default:
			return sp, fmt.Errorf("scanner %q: unknown option %q", s, opt)
		}
	}
	switch typ {
	case "serial", "evdev", "camera":
		if sp.Path == "" {
			return sp, fmt.Errorf("scanner %q: no device path", s)
		}
	case "stdin":
		if sp.Path == "exit" {
			sp.Path, sp.Exit = "", true
		}
	default:
		return sp, fmt.Errorf("scanner %q: unknown type %q: use serial, evdev, camera or stdin", s, typ)
	}
	return sp, nil
}
