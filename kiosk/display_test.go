package kiosk

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/kiosk/display"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/venuecode"
)

// Ensure that a kiosk run with display mode serves the display page: the
// venue's code signed by the device while its clock is trusted, and reader
// mode only, said on the page, while it is not; with the venue's name and
// category from the down-sync cache as its headline.
func TestRun_Display(t *testing.T) {
	keys, err := province.Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	kdir := filepath.Join(t.TempDir(), "keys")
	if err := keys.Save(kdir); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	dir := filepath.Join(t.TempDir(), "kiosk")
	dev, err := Provision(dir, filepath.Join(kdir, "public.json"), "v-1234567891", clock.Now().Wall)
	if err != nil {
		t.Fatal(err)
	}
	// Never synced: the name given at `kiosk init --venue-name`.
	if err := SetVenueName(dir, dev, "카페 한라", "cafe"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	// A Pi without an RTC, booted in 1970: no code.
	clock.reboot(time.Unix(100, 0), checkin.Unsynced)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Data: dir, Feedback: "none", Display: true, DisplayListen: addr, StatusListen: "off"},
			Env{Clock: clock, Scanners: []scanner.Scanner{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	get := func(path string) []byte {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + path)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return b
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var st display.State
	json.Unmarshal(get("/code.json"), &st)
	if st.Mode != display.ModeReader || st.Code != "" || st.Reason != display.ReasonClockUntrusted {
		t.Fatalf("untrusted clock: %+v", st)
	}
	if st.Venue != "카페 한라" || st.CategoryKO != "카페" {
		t.Errorf("venue %q, category %q; want the name and category given at init", st.Venue, st.CategoryKO)
	}
	if page := string(get("/")); !strings.Contains(page, "Show your pass or card to the scanner.") || !strings.Contains(page, `<h1 id="venue">카페 한라</h1>`) || strings.Contains(page, "<svg") {
		t.Errorf("untrusted clock page:\n%.600s", page)
	}

	// NTP synced: the device's code for its venue.
	clock.reboot(time.Date(2026, 11, 26, 12, 0, 5, 0, time.UTC), checkin.NTPSynced)
	json.Unmarshal(get("/code.json"), &st)
	c, err := venuecode.VerifyDisplay(dev.PublicKey, st.Code)
	if err != nil || st.Mode != display.ModeDisplay || c.Device != dev.ID || c.Venue != dev.Venue || !c.Fresh(clock.Now().Wall) {
		t.Fatalf("synced: %+v %+v %v", st, c, err)
	}
}

// Ensure that a display period the central would refuse is a config error.
func TestConfig_DisplayPeriod(t *testing.T) {
	base := Config{Data: "/tmp/x", Scanners: []string{"stdin"}, Display: true}
	for _, tc := range []struct {
		period time.Duration
		ok     bool
	}{{0, true}, {30 * time.Second, true}, {5 * time.Minute, true}, {5 * time.Second, false}, {10 * time.Minute, false}, {15500 * time.Millisecond, false}} {
		c := base
		c.DisplayPeriod = Duration(tc.period)
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("period %v: %v", tc.period, err)
		}
	}
}
