package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/internal/logtest"
	"github.com/anshim/anshim/province"
)

// Ensure that a short scripted day — outage, killed kiosk, a kiosk at 1970
// — ends with every accepted check-in stored exactly once, with the 1970
// kiosk's times corrected to within 2 seconds.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("NOT RUN in -short: the demo runs a central and 5 kiosks for ~15 s")
	}
	testDemo(t, Options{Kiosks: 5, Day: 8 * time.Second, Dir: t.TempDir()})
}

// Ensure that the same day ends the same way with the central on
// PostgreSQL.
func TestDemo_Postgres(t *testing.T) {
	if testing.Short() {
		t.Skip("NOT RUN in -short: the demo runs a central and 3 kiosks for ~10 s")
	}
	testDemo(t, Options{Kiosks: 3, Day: 6 * time.Second, Dir: t.TempDir(), Store: pgtest.NewDatabase(t)})
}

func testDemo(t *testing.T, o Options) {
	var out bytes.Buffer
	o.Out = &out
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	tot := rep.Totals()
	if tot.Accepted < 20 || tot.Lost != 0 || tot.Duplicates != 0 || tot.Stored != tot.Accepted+tot.Unanswered || tot.Rejected == 0 || tot.Already == 0 {
		t.Fatalf("totals %+v\n%s", tot, out.String())
	}
	if e := rep.Rows[2].ClockError; e > 2*time.Second || rep.Rows[2].Accepted == 0 {
		t.Fatalf("1970 kiosk: clock error %v over %d check-ins", e, rep.Rows[2].Accepted)
	}
	for _, want := range []string{"network outage", "kiosk 02 killed", "at central", "0 lost, 0 duplicates"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^  case DEMO-2026-001: http://127\.0\.0\.1:\d+/console/cases/\d+  \(데모 방문자 \d\d, [1-9]\d* check-ins today`).MatchString(out.String()) {
		t.Errorf("output lacks the console case's line\n%s", out.String())
	}
}

// Ensure that a central restarted on the config pinAddrs pinned (as --keep
// restarts it after the check) serves HTTP and NATS on the ports it had,
// so that the addresses printed at the start and known to the kiosks stay
// good.
func TestPinAddrs_Restart(t *testing.T) {
	dir := t.TempDir()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "province")); err != nil {
		t.Fatal(err)
	}
	cfg := central.Config{Data: filepath.Join(dir, "central"), Keys: filepath.Join(dir, "province"), HTTP: "127.0.0.1:0",
		NATS: central.NATSConfig{Listen: "127.0.0.1:-1"}}
	start := func() *central.Server {
		t.Helper()
		srv, err := central.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start()
	httpURL, natsURL := srv.HTTPURL(), srv.NATSURL()
	if err := pinAddrs(&cfg, httpURL, natsURL); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv = start()
	defer srv.Close()
	if srv.HTTPURL() != httpURL || srv.NATSURL() != natsURL {
		t.Errorf("restarted on HTTP %s, NATS %s; want the first start's %s, %s", srv.HTTPURL(), srv.NATSURL(), httpURL, natsURL)
	}
	resp, err := http.Get(httpURL + "/health")
	if err != nil {
		t.Fatalf("the first address is dead after the restart: %v", err)
	}
	resp.Body.Close()
}

// Ensure that pinAddrs refuses URLs without a port or of another scheme,
// leaving the config as it was.
func TestPinAddrs_Bad(t *testing.T) {
	for _, tt := range []struct{ http, nats string }{
		{"http://127.0.0.1", "nats://127.0.0.1:4223"},
		{"http://127.0.0.1:8440", "nats://127.0.0.1"},
		{"nats://127.0.0.1:8440", "nats://127.0.0.1:4223"},
		{"http://127.0.0.1:8440", "nats://a:1,nats://b:2"},
		{"", ""},
	} {
		cfg := central.Config{HTTP: "127.0.0.1:0", NATS: central.NATSConfig{Listen: "127.0.0.1:-1"}}
		if err := pinAddrs(&cfg, tt.http, tt.nats); err == nil || cfg.HTTP != "127.0.0.1:0" || cfg.NATS.Listen != "127.0.0.1:-1" {
			t.Errorf("pinAddrs(%q, %q) = %v, config %q %q", tt.http, tt.nats, err, cfg.HTTP, cfg.NATS.Listen)
		}
	}
}

// lockedBuffer is a buffer that the demo writes while the test reads it.
type lockedBuffer = logtest.Buffer

// Ensure that with Keep the central left running serves on the HTTP and
// NATS addresses printed when it first started.
func TestDemo_Keep(t *testing.T) {
	if testing.Short() {
		t.Skip("NOT RUN in -short: the demo runs a central and 3 kiosks for ~10 s")
	}
	out := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{Kiosks: 3, Day: 5 * time.Second, Dir: t.TempDir(), Keep: true, Out: out})
		done <- err
	}()
	first := regexp.MustCompile(`central server up: HTTP (\S+), embedded NATS (\S+),`)
	kept := regexp.MustCompile(`central HTTP +(\S+) .*\n +NATS +(\S+)`)
	deadline := time.After(2 * time.Minute)
	for !kept.MatchString(out.String()) {
		select {
		case err := <-done:
			t.Fatalf("demo ended before it kept running: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("demo did not keep running:\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	f, k := first.FindStringSubmatch(out.String()), kept.FindStringSubmatch(out.String())
	if f == nil || f[1] != k[1] || f[2] != k[2] {
		t.Fatalf("first started on %q, kept running on %q:\n%s", f, k[1:], out.String())
	}
	resp, err := http.Get(k[1] + "/health")
	if err != nil {
		t.Fatalf("the printed HTTP address is dead: %v", err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo: %v", err)
	}
}
