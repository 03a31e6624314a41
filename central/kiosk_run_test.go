package central

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/feedback/feedbacktest"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/enroll"
)

// runningKiosk is a real kiosk daemon (kiosk.Run), enrolled with the test
// server at a venue and connected to its NATS, fed by a fake scanner and
// answering on a recorded indicator, on a clock the test moves.
type runningKiosk struct {
	clock  *kioskClock
	scans  *scannertest.Fake
	events *feedbacktest.Recorder
	log    *syncBuf
}

// runKiosk enrolls a kiosk at venue with a new token, starts it with its
// wall clock at wall, and stops it at the end of the test.
func runKiosk(t *testing.T, ts *testServer, venue string, wall time.Time) *runningKiosk {
	t.Helper()
	ctx := context.Background()
	tok, err := ts.NewToken(ctx, venue)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "kiosk")
	if _, err := enroll.Enroll(ctx, enroll.Options{Central: ts.HTTPURL(), Token: tok, Dir: dir, BundleSHA256: ts.BundleSHA256()}); err != nil {
		t.Fatal(err)
	}
	k := &runningKiosk{
		clock:  &kioskClock{s: kiosk.Stamp{Wall: wall.UTC(), Quality: checkin.NTPSynced, Boot: [16]byte{9}, Mono: time.Hour}},
		scans:  scannertest.New("test"),
		events: &feedbacktest.Recorder{C: make(chan feedback.Event)},
		log:    new(syncBuf),
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- kiosk.Run(runCtx, kiosk.Config{Data: dir, StatusListen: "off", Feedback: "none", NATSInsecure: true}, kiosk.Env{
			Log: slog.New(slog.NewJSONHandler(k.log, nil)), Clock: k.clock, Indicator: k.events,
			Scanners: []scanner.Scanner{k.scans},
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("kiosk.Run: %v", err)
		}
	})
	select {
	case <-k.scans.Started:
	case err := <-done:
		t.Fatalf("kiosk.Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the kiosk did not start")
	}
	return k
}

// scan shows text to the kiosk's scanner and returns its answer.
func (k *runningKiosk) scan(t *testing.T, text string) feedback.Result {
	t.Helper()
	select {
	case k.scans.Scans <- scanner.Scan{Text: text}:
	case <-time.After(5 * time.Second):
		t.Fatal("the kiosk takes no scan")
	}
	select {
	case ev := <-k.events.C:
		return ev.Result
	case <-time.After(5 * time.Second):
		t.Fatal("no feedback for a scan")
	}
	return 0
}
