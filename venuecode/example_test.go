package venuecode_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/venuecode"
)

// A province prints a poster for a venue without a kiosk; the visitor's
// app reads it and the central verifies it with the province's keys.
func ExampleIssuePoster() {
	seed := sha256.Sum256([]byte("example"))
	signer := pass.Signer{Private: ed25519.NewKeyFromSeed(seed[:])}
	text, err := venuecode.IssuePoster(signer, "jeju-cafe-0042", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(text[:len(venuecode.PosterPrefix)], len(text))
	venue, err := venuecode.VerifyPoster([]pass.PublicKey{signer.PublicKey()}, text)
	fmt.Println(venue, err)
	// Output:
	// AV1: 138
	// jeju-cafe-0042 <nil>
}

// A kiosk shows a display code for the current period; the central checks
// it with the enrolled device's public key and the time.
func ExampleVerifyDisplay() {
	seed := sha256.Sum256([]byte("example device"))
	key := ed25519.NewKeyFromSeed(seed[:])
	now := time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)
	text, err := venuecode.SignDisplay(key, venuecode.Display{Device: "k-1", Venue: "jeju-cafe-0042",
		Length: 30 * time.Second, Period: venuecode.PeriodOf(now, 30*time.Second)})
	if err != nil {
		panic(err)
	}
	c, err := venuecode.VerifyDisplay(key.Public().(ed25519.PublicKey), text)
	fmt.Println(text[:len(venuecode.DisplayPrefix)], c.Venue, c.Start().Format(time.TimeOnly), c.Fresh(now.Add(time.Minute)), err)
	// Output:
	// AD1: jeju-cafe-0042 09:00:00 false <nil>
}
