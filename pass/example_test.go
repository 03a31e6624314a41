package pass_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/anshim/anshim/pass"
)

// A province issues a card pass; a kiosk verifies it offline, and rejects it
// once the card is reported lost.
func Example() {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	signer := pass.Signer{Private: priv}

	issued := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	p := pass.Pass{
		Kind:    pass.KindCard,
		Serial:  1042,
		Issued:  issued,
		Expires: issued.AddDate(1, 0, 0),
	}
	rand.Read(p.Pseudonym[:])
	text, err := signer.Issue(p)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(text), text[:len(pass.Prefix)])

	// The kiosk has the province's public keys and a revocation list.
	revoked := new(pass.RevocationList)
	kiosk := pass.NewVerifier([]pass.PublicKey{signer.PublicKey()}, revoked)
	got, err := kiosk.Verify(text, issued.Add(2*time.Hour))
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Kind, got.Serial, got.Expires.Format(time.DateOnly))

	// The card is lost.
	if err := revoked.Add(got.RevocationID()); err != nil {
		panic(err)
	}
	_, err = kiosk.Verify(text, issued.Add(3*time.Hour))
	fmt.Println(pass.Reason(err))

	// Output:
	// 154 AN1:
	// card 1042 2026-03-01
	// revoked
}
