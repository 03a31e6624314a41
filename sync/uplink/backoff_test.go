package uplink

import (
	"os"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

type nopOutbox struct{}

func (nopOutbox) ReadWireBatch(uint64, int) (*wire.Batch, error) { return nil, nil }
func (nopOutbox) Ack(uint64) (int, error)                        { return 0, nil }
func (nopOutbox) Base() (uint64, checkin.Hash, error)            { return 0, checkin.Hash{}, nil }
func (nopOutbox) Pending() (int, error)                          { return 0, nil }

// Ensure that resend and re-watch delays double up to BackoffMax and are
// spread over the upper half of each step, differently for each kiosk, so
// that 10,000 kiosks do not come back in lock-step after an outage.
func TestBackoff_Jitter(t *testing.T) {
	newUplink := func() *Uplink {
		u, err := New(Config{Outbox: nopOutbox{}, Device: "k-1", Venue: "v-1", URLs: []string{"nats://x"},
			BackoffMin: time.Second, BackoffMax: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := newUplink()
	for n, step := range []time.Duration{1, 2, 4, 8, 16, 30, 30, 30} {
		step *= time.Second
		lo, hi := step, time.Duration(0)
		for range 200 {
			d := u.backoff(n + 1)
			if d < step/2 || d > step {
				t.Fatalf("attempt %d: %s outside [%s, %s]", n+1, d, step/2, step)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if hi-lo < step/4 {
			t.Errorf("attempt %d: 200 delays within %s of each other", n+1, hi-lo)
		}
	}
	// Two kiosks: different sequences.
	a, b := newUplink(), newUplink()
	same := 0
	for range 20 {
		if a.backoff(3) == b.backoff(3) {
			same++
		}
	}
	if same > 2 {
		t.Errorf("two kiosks drew the same delay %d times of 20", same)
	}
}

// Ensure that settings round-trip through their file form and that broken
// ones are refused.
func TestSettings(t *testing.T) {
	s := Settings{URLs: []string{"nats://a:4222", "tls://b:4222"}, Subject: wire.CheckInSubject("v-1", "k-1"), InboxPrefix: wire.InboxPrefix("k-1")}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/nats.json"
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSettings(path)
	if err != nil || got.Subject != s.Subject || len(got.URLs) != 2 || got.InboxPrefix != s.InboxPrefix {
		t.Fatalf("%+v, %v", got, err)
	}
	for _, bad := range []Settings{
		{},
		{URLs: []string{"nats://a:4222,nats://b:4222"}},
		{URLs: []string{"nats://a"}, Subject: "anshim.checkins.*"},
		{URLs: []string{"nats://a"}, InboxPrefix: "_INBOX_k-1."},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := os.WriteFile(path, []byte(`{"urls":["nats://a"],"subjekt":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSettings(path); err == nil {
		t.Error("an unknown field was accepted")
	}
}
