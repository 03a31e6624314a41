package scannertest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
)

// Ensure that injected scans reach emit in order with defaults filled in,
// and that an injected error ends Run.
func TestFake(t *testing.T) {
	at := time.Date(2021, 1, 4, 9, 0, 0, 0, time.UTC)
	f := scannertest.New("fake-door")
	f.Exit = true
	f.Now = func() time.Time { return at }
	got := make(chan scanner.Scan, 10)
	done := make(chan error, 1)
	go func() { done <- f.Run(context.Background(), func(s scanner.Scan) { got <- s }) }()
	<-f.Started

	ctx := context.Background()
	if err := f.Send(ctx, "HC1:ONE"); err != nil {
		t.Fatal(err)
	}
	custom := scanner.Scan{Text: "HC1:TWO", Source: "other", At: at.Add(time.Hour)}
	f.Scans <- custom
	want := []scanner.Scan{
		{Text: "HC1:ONE", Source: "fake-door", Exit: true, At: at},
		{Text: "HC1:TWO", Source: "other", Exit: true, At: at.Add(time.Hour)},
	}
	for i, w := range want {
		if s := <-got; s != w {
			t.Errorf("scan %d = %+v, want %+v", i, s, w)
		}
	}

	boom := errors.New("usb controller on fire")
	f.Errs <- boom
	if err := <-done; !errors.Is(err, boom) {
		t.Errorf("Run = %v, want %v", err, boom)
	}
}

// Ensure that Run returns ctx.Err() on cancel, also after Scans is closed.
func TestFake_Cancel(t *testing.T) {
	f := scannertest.New("fake")
	close(f.Scans)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, func(scanner.Scan) { t.Error("scan from a closed channel") }) }()
	<-f.Started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
