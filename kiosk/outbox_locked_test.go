package kiosk

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
)

// Ensure that opening an outbox another process holds fails after the lock
// timeout with ErrLocked, naming the file and the other kiosk process, and
// leaves the file where it is (it is not corrupt).
func TestOutbox_Open_Locked(t *testing.T) {
	e := newEnv(t) // holds the outbox open, as a running kiosk does
	path := filepath.Join(e.dir, FileOutbox)
	t0 := time.Now()
	_, err := OpenOutbox(path, e.dev.PrivateKey())
	took := time.Since(t0)
	if !errors.Is(err, ErrLocked) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "another kiosk process holds "+path) {
		t.Errorf("error %q does not name the other process and the file", msg)
	}
	if took < lockTimeout/2 || took > lockTimeout+3*time.Second {
		t.Errorf("second open failed after %s, want about %s", took, lockTimeout)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the outbox was moved: %v", err)
	}
	if m, _ := filepath.Glob(path + ".corrupt-*"); len(m) > 0 {
		t.Errorf("a locked outbox was moved aside as corrupt: %v", m)
	}
	// Once the first kiosk stops, the outbox opens.
	e.close()
	e.open()
	if st := e.verify(); st.Records != 0 {
		t.Errorf("outbox after the lock: %+v", st)
	}
}

// Ensure that a second kiosk daemon on an outbox another one holds stops at
// once with ErrLocked: it does not stay up out of order, shows no red light
// and reads no scanner.
func TestRun_LockedOutbox(t *testing.T) {
	e := newEnv(t)
	var logs lockedBuffer
	fake := scannertest.New("test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	err := Run(ctx, Config{Data: e.dir, Feedback: "none", StatusListen: "off"},
		Env{Scanners: []scanner.Scanner{fake}, Clock: e.clock, Indicator: e.ind, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if took := time.Since(t0); took > lockTimeout+3*time.Second {
		t.Errorf("Run returned after %s, want at once after the %s lock timeout", took, lockTimeout)
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), filepath.Join(e.dir, FileOutbox)) {
		t.Fatalf("Run: %v, want ErrLocked naming the outbox", err)
	}
	out := logs.String()
	if strings.Contains(out, "out of order") || strings.Contains(out, "re-provision") || !strings.Contains(out, `"msg":"outbox held by another kiosk process: not starting"`) {
		t.Errorf("log of the second kiosk:\n%s", out)
	}
	for _, ev := range e.ind.events {
		if ev.Result == feedback.OutOfOrder {
			t.Errorf("the second kiosk signalled out of order: %+v", ev)
		}
	}
	select {
	case <-fake.Started:
		t.Error("the second kiosk started its scanner")
	default:
	}
	// The first kiosk still records.
	text, _ := e.issue()
	if out := e.scan(text); out.Seq != 1 {
		t.Errorf("the running kiosk after the second one gave up: %+v", out)
	}
}
