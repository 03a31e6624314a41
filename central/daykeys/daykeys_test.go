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
