package daykeys

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newKEK(t *testing.T) []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// Ensure that KST days start at 15:00 UTC the day before.
func TestDayOf(t *testing.T) {
	d := DayOf(time.Date(2026, 11, 26, 14, 59, 59, 0, time.UTC))
	if d.String() != "2026-11-26" || DayOf(time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)).String() != "2026-11-27" {
		t.Fatalf("KST day boundary wrong: %s", d)
	}
	if !d.Start().Equal(time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("start %v", d.Start())
	}
	p, err := ParseDay("2026-11-26")
	if err != nil || p != d {
		t.Fatalf("ParseDay = %v, %v", p, err)
	}
	if _, err := ParseDay("26/11/2026"); err == nil {
		t.Fatal("bad day parsed")
	}
}

// Ensure that tags and sealed pseudonyms work per day, do not link across
// days, survive reopening, and that destroyed days cannot be read again —
// not even from a copy of the key file taken before.
func TestKeys_DestroyThrough(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "daykeys")
	kek := newKEK(t)
	first, _ := ParseDay("2026-11-01")
	k, err := Open(path, kek, first)
	if err != nil {
		t.Fatal(err)
	}
	p := [16]byte{1, 2, 3}
	d1, d2 := first+3, first+4
	t1, _ := k.Tag(d1, p)
	t2, _ := k.Tag(d2, p)
	if t1 == t2 {
		t.Fatal("tags link across days")
	}
	ad := AD("k-1", 7)
	sealed, err := k.Seal(d1, p[:], ad)
	if err != nil || bytes.Contains(sealed, p[:]) {
		t.Fatalf("seal: %v", err)
	}
	if got, err := k.Open(d1, sealed, ad); err != nil || !bytes.Equal(got, p[:]) {
		t.Fatalf("open: %v", err)
	}
	if _, err := k.Open(d2, sealed, ad); !errors.Is(err, ErrOpen) {
		t.Fatal("opened with another day's key")
	}
	if _, err := k.Open(d1, sealed, AD("k-1", 8)); !errors.Is(err, ErrOpen) {
		t.Fatal("opened for another record")
	}
	before, _ := os.ReadFile(path)

	k2, err := Open(path, kek, 0)
	if err != nil {
		t.Fatal(err)
	}
	if t1b, _ := k2.Tag(d1, p); t1b != t1 {
		t.Fatal("reopened keys differ")
	}
	if err := k2.DestroyThrough(d1); err != nil {
		t.Fatal(err)
	}
	if k2.Oldest() != d2 {
		t.Fatalf("oldest %s, want %s", k2.Oldest(), d2)
	}
	if _, err := k2.Tag(d1, p); !errors.Is(err, ErrDestroyed) {
		t.Fatal("destroyed day still tags")
	}
	if _, err := k2.Open(d1, sealed, ad); !errors.Is(err, ErrDestroyed) {
		t.Fatal("destroyed day still opens")
	}
	if t2b, _ := k2.Tag(d2, p); t2b != t2 {
		t.Fatal("a later day's key changed")
	}
	k3, _ := Open(path, kek, 0)
	if _, err := k3.Tag(d1, p); !errors.Is(err, ErrDestroyed) {
		t.Fatal("destroyed day readable after reopening")
	}
	after, _ := os.ReadFile(path)
	if bytes.Equal(before, after) {
		t.Fatal("key file unchanged by destruction")
	}
	if _, err := Open(path, newKEK(t), 0); err == nil {
		t.Fatal("opened with another KEK")
	}
	if err := k3.DestroyThrough(first); err != nil || k3.Oldest() != d2 {
		t.Fatal("destroying an already destroyed day moved the ratchet")
	}
}

// Ensure that the fingerprint is the same for copies of a ratchet at any
// oldest day, differs between ratchets made apart, is not a key the
// ratchet uses, and that FingerprintDay is 2100-01-01.
func TestKeys_Fingerprint(t *testing.T) {
	if d, err := ParseDay("2100-01-01"); err != nil || d != FingerprintDay {
		t.Fatalf("FingerprintDay = %d, 2100-01-01 is %d (%v)", FingerprintDay, d, err)
	}
	dir := t.TempDir()
	kek := newKEK(t)
	first, _ := ParseDay("2026-11-01")
	a, err := Open(filepath.Join(dir, "a"), kek, first)
	if err != nil {
		t.Fatal(err)
	}
	fa, err := a.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "copy"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Open(filepath.Join(dir, "copy"), kek, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DestroyThrough(first + 40); err != nil {
		t.Fatal(err)
	}
	if fc, err := c.Fingerprint(); err != nil || fc != fa {
		t.Errorf("a copy 40 days further on: fingerprint %x, %v; want %x", fc, err, fa)
	}
	b, err := Open(filepath.Join(dir, "b"), kek, first)
	if err != nil {
		t.Fatal(err)
	}
	if fb, err := b.Fingerprint(); err != nil || fb == fa {
		t.Errorf("another ratchet's fingerprint %x, %v: want another", fb, err)
	}
	km, err := a.KeyMaterial(FingerprintDay)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range km {
		if bytes.Equal(m, fa[:]) {
			t.Error("the fingerprint is a key of FingerprintDay")
		}
	}
	if err := c.DestroyThrough(FingerprintDay); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fingerprint(); !errors.Is(err, ErrDestroyed) {
		t.Errorf("fingerprint past FingerprintDay: %v, want ErrDestroyed", err)
	}
}
