package kiosk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Ensure that scanner specs parse, and that mistakes are named.
func TestParseScannerSpec(t *testing.T) {
	tests := []struct {
		in   string
		want ScannerSpec
		err  string
	}{
		{in: "serial:/dev/ttyACM0", want: ScannerSpec{Type: "serial", Path: "/dev/ttyACM0"}},
		{in: "serial:/dev/serial/by-id/usb-X-if00,115200,exit", want: ScannerSpec{Type: "serial", Path: "/dev/serial/by-id/usb-X-if00", Baud: 115200, Exit: true}},
		{in: "evdev:/dev/input/event3,exit", want: ScannerSpec{Type: "evdev", Path: "/dev/input/event3", Exit: true}},
		{in: "camera:-", want: ScannerSpec{Type: "camera", Path: "-"}},
		{in: "stdin", want: ScannerSpec{Type: "stdin"}},
		{in: "stdin:exit", want: ScannerSpec{Type: "stdin", Exit: true}},
		{in: "serial:", err: "no device path"},
		{in: "serial:/dev/x,fast", err: "baud rate"},
		{in: "evdev:/dev/x,9600", err: "unknown option"},
		{in: "bluetooth:/dev/x", err: "unknown type"},
	}
	for _, tt := range tests {
		got, err := ParseScannerSpec(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// Ensure that a config file loads with day durations, rejects unknown
// fields, and validates.
func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"data":"/var/lib/anshim","scanners":["stdin"],"debounce":"5m","retention":"28d","checkpoint_poll":"90s","gpio":{"green":"GPIO17","red":"GPIO27","relay_pulse":"3s"}}`), 0o644)
	c, err := LoadConfig(good)
	if err != nil || c.Validate() != nil {
		t.Fatalf("%v %v", err, c.Validate())
	}
	if c.DebounceOrDefault() != 5*time.Minute || c.RetentionOrDefault() != 28*24*time.Hour || c.GPIO.config().RelayPulse != 3*time.Second || time.Duration(c.CheckpointPoll) != 90*time.Second {
		t.Fatalf("config %+v", c)
	}
	typo := filepath.Join(dir, "typo.json")
	os.WriteFile(typo, []byte(`{"data":"/x","scaners":["stdin"]}`), 0o644)
	if _, err := LoadConfig(typo); err == nil || !strings.Contains(err.Error(), "scaners") {
		t.Fatalf("typo accepted: %v", err)
	}
	for _, bad := range []Config{
		{Scanners: []string{"stdin"}},
		{Data: "/x"},
		{Data: "/x", Scanners: []string{"stdin"}, Mode: "sideways"},
		{Data: "/x", Scanners: []string{"stdin"}, Feedback: "smoke"},
		{Data: "/x", Scanners: []string{"stdin"}, CheckpointPoll: Duration(time.Millisecond)},
		{Data: "/x", Scanners: []string{"stdin"}, CheckpointPoll: Duration(48 * time.Hour)},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
	if (Config{}).DebounceOrDefault() != 10*time.Minute {
		t.Error("default debounce is not 10 minutes")
	}
}
