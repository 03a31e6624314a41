package scanner

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Ensure that the backoff doubles from min to max, jitters within [d/2, d]
// and restarts from min after reset.
func TestBackoff_Wait(t *testing.T) {
	tests := []struct {
		name string
		r    float64
		want []time.Duration
	}{
		{"no jitter draw", 0, []time.Duration{50, 100, 200, 400, 500, 500}},
		{"full draw", 0.999999, []time.Duration{99, 199, 399, 799, 999, 999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &backoff{min: 100, max: 1000, rand: func() float64 { return tt.r }}
			for i, want := range tt.want {
				if got := b.wait(); got != want {
					t.Errorf("wait %d = %v, want %v", i, got, want)
				}
			}
			b.reset()
			if got := b.wait(); got != tt.want[0] {
				t.Errorf("wait after reset = %v, want %v", got, tt.want[0])
			}
		})
	}
}

// Ensure that the default random jitter stays within bounds.
func TestBackoff_Wait_Random(t *testing.T) {
	b := backoffFor(0, 0)
	for range 100 {
		if d := b.wait(); d < DefaultBackoffMin/2 || d > DefaultBackoffMax {
			t.Fatalf("wait = %v, outside [%v, %v]", d, DefaultBackoffMin/2, DefaultBackoffMax)
		}
	}
}

// Ensure that supervise reports session errors, keeps retrying, and returns
// ctx.Err() once the context is done, without reporting the session error
// caused by the cancellation.
func TestSupervise(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reported []error
	runs := 0
	errFlaky := errors.New("flaky")
	err := supervise(ctx, &backoff{min: time.Millisecond, max: time.Millisecond}, func(err error) { reported = append(reported, err) },
		func(ctx context.Context, healthy func()) error {
			runs++
			if runs == 3 {
				cancel()
				return errors.New("read interrupted by cancel")
			}
			return errFlaky
		})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("supervise = %v, want context.Canceled", err)
	}
	if runs != 3 || len(reported) != 2 || !errors.Is(reported[0], errFlaky) {
		t.Errorf("runs = %d, reported = %v; want 3 runs, 2 flaky errors", runs, reported)
	}
}
