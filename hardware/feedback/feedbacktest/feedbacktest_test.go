package feedbacktest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/feedback/feedbacktest"
)

// Ensure that the Recorder records events, hands them to C and returns Err.
func TestRecorder(t *testing.T) {
	ctx := context.Background()
	r := &feedbacktest.Recorder{C: make(chan feedback.Event, 1)}
	ev := feedback.Event{Result: feedback.Rejected, Reason: "expired"}
	if err := r.Indicate(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got := <-r.C; got != ev {
		t.Errorf("C gave %+v, want %+v", got, ev)
	}
	boom := errors.New("buzzer gone")
	r.Err = boom
	r.C = nil
	if err := r.Indicate(ctx, feedback.Event{Result: feedback.Accepted}); !errors.Is(err, boom) {
		t.Errorf("Indicate = %v, want %v", err, boom)
	}
	want := []feedback.Event{ev, {Result: feedback.Accepted}}
	if got := r.Events(); !slices.Equal(got, want) {
		t.Errorf("Events() = %+v, want %+v", got, want)
	}
}
