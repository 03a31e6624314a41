package vault

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/pass"
)

// Ensure that an app pass is signed from the serial and issue time alone
// (the same arguments give the same text), refuses serial 0, carries the
// person's pseudonym and a revocation id of its own per serial, and
// records a use; and that Initial gives the name's first letter.
func TestAppPass(t *testing.T) {
	v, clock := newVault(t, openBolt(t, filepath.Join(t.TempDir(), "central.db")))
	ctx := t.Context()
	p := register(t, v, "김안심", "010-1234-5678")
	issued := t0.Truncate(time.Second).Add(90 * time.Minute)
	later := t0.Add(48 * time.Hour)
	clock.Set(later)
	a, err := v.AppPass(ctx, p.ID, 3, issued, later)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.AppPass(ctx, p.ID, 3, issued.Add(500*time.Millisecond), later)
	if err != nil || b.Text != a.Text {
		t.Fatalf("the same pass signed again differs: %v", err)
	}
	got, err := pass.NewVerifier([]pass.PublicKey{testSigner().PublicKey()}, nil).Verify(a.Text, issued)
	if err != nil || got.Pseudonym != p.Pseudonym || got.Kind != pass.KindApp || got.Serial != 3 ||
		!got.Issued.Equal(issued) || !got.Expires.Equal(issued.Add(DefaultPassLifetime)) || !a.Expires.Equal(got.Expires) {
		t.Fatalf("app pass %+v, %v", got, err)
	}
	if got.RevocationID() != AppRevocationID(p.Pseudonym, 3) || AppRevocationID(p.Pseudonym, 3) == AppRevocationID(p.Pseudonym, 4) {
		t.Error("the app pass's revocation id is not its serial's own")
	}
	if _, err := v.AppPass(ctx, p.ID, 0, issued, later); !errors.Is(err, ErrInvalid) {
		t.Errorf("serial 0: %v, want ErrInvalid", err)
	}
	if q, _ := v.Person(ctx, p.ID); !q.LastUsed.Equal(later) {
		t.Errorf("last used %v, want %v", q.LastUsed, later)
	}
	if in, err := v.Initial(ctx, p.ID); err != nil || in != "김" {
		t.Errorf("Initial = %q, %v", in, err)
	}
	if err := CheckName("김\u202e"); err == nil {
		t.Error("CheckName took a bidi control")
	}
	if err := CheckName("Jane Doe"); err != nil {
		t.Error(err)
	}
}
