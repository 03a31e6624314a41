package venuecode

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func testKey(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	return ed25519.NewKeyFromSeed(seed)
}

var t0 = time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)

// Ensure that a signed display code verifies with the device's key and round-trips.
func TestSignDisplay_Verify(t *testing.T) {
	key := testKey(1)
	c := Display{Device: "k-0123456789abcdef", Venue: "jeju-cafe-1", Length: 30 * time.Second, Period: PeriodOf(t0, 30*time.Second)}
	text, err := SignDisplay(key, c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, DisplayPrefix) || !IsDisplay(text) {
		t.Fatalf("text %q", text)
	}
	got, err := VerifyDisplay(key.Public().(ed25519.PublicKey), text)
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Fatalf("got %+v, want %+v", got, c)
	}
	if !got.Start().Equal(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) || got.End().Sub(got.Start()) != 30*time.Second {
		t.Fatalf("period %v–%v", got.Start(), got.End())
	}
	// Deterministic: Ed25519 and the encoding, a pinned vector.
	again, _ := SignDisplay(key, c)
	if again != text {
		t.Fatal("signing is not deterministic")
	}
}

// Ensure that another device's key, a changed byte and junk are refused.
func TestVerifyDisplay_Rejects(t *testing.T) {
	key := testKey(1)
	c := Display{Device: "k-0123456789abcdef", Venue: "v1", Length: 30 * time.Second, Period: 42}
	text, _ := SignDisplay(key, c)
	if _, err := VerifyDisplay(testKey(2).Public().(ed25519.PublicKey), text); !errors.Is(err, ErrDisplaySignature) {
		t.Errorf("other key: %v", err)
	}
	other, _ := SignDisplay(key, Display{Device: c.Device, Venue: "v2", Length: c.Length, Period: 42})
	// Splice: the venue of one code with the signature of another.
	if _, err := VerifyDisplay(key.Public().(ed25519.PublicKey), other[:len(other)-10]+text[len(text)-10:]); err == nil {
		t.Error("spliced code verified")
	}
	for _, bad := range []string{"", "AD1:", "AN1:ABC", text + "00", strings.ToLower(text), text[:len(text)-3]} {
		if _, err := VerifyDisplay(key.Public().(ed25519.PublicKey), bad); !errors.Is(err, ErrDisplayMalformed) {
			t.Errorf("VerifyDisplay(%.20q): %v, want ErrDisplayMalformed", bad, err)
		}
	}
	if _, err := SignDisplay(key, Display{Device: "d", Venue: "v", Length: 1500 * time.Millisecond}); !errors.Is(err, ErrDisplayMalformed) {
		t.Errorf("fractional period: %v", err)
	}
}

// Ensure that only the current period and its neighbours are fresh.
func TestDisplay_Fresh(t *testing.T) {
	d := 30 * time.Second
	cur := PeriodOf(t0, d)
	for _, tc := range []struct {
		period uint64
		fresh  bool
	}{{cur, true}, {cur - 1, true}, {cur + 1, true}, {cur - 2, false}, {cur + 2, false}, {0, false}} {
		c := Display{Device: "d", Venue: "v", Length: d, Period: tc.period}
		if got := c.Fresh(t0); got != tc.fresh {
			t.Errorf("period %d (current %d): fresh %v, want %v", tc.period, cur, got, tc.fresh)
		}
	}
}

func FuzzParseDisplay(f *testing.F) {
	text, _ := SignDisplay(testKey(1), Display{Device: "k-0123456789abcdef", Venue: "v1", Length: 30 * time.Second, Period: 42})
	f.Add(text)
	f.Add("AD1:")
	f.Fuzz(func(t *testing.T, s string) {
		c, body, sig, err := parseDisplay(s)
		if err != nil {
			return
		}
		if string(c.body()) != string(body) || len(sig) != ed25519.SignatureSize {
			t.Fatalf("parse → body differs for %q", s)
		}
	})
}
