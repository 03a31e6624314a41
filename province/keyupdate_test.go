package province

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// issued is the signing time of the test vectors.
var issued = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Ensure that a signed key update formats to the pinned text, parses back
// to the same bytes, and opens with the bundle of the keys that signed it.
func TestKeyUpdate_Vector(t *testing.T) {
	k := generate(t, 1)
	s, err := k.SignKeyUpdate(KeyUpdate{Kind: KindSealingKey, Name: "current", Issued: issued, Payload: []byte(`{"id":"6add8b87"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := FormatKeyUpdate(s)
	golden := filepath.Join("testdata", "keyupdate.txt")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("formatted\n%s\nwant (testdata/keyupdate.txt, -update rewrites it)\n%s", got, want)
	}
	p, err := ParseKeyUpdate(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(FormatKeyUpdate(p), got) {
		t.Errorf("parse → format changed the text")
	}
	u, err := k.Bundle().OpenKeyUpdate(got, KindSealingKey, "current")
	if err != nil {
		t.Fatal(err)
	}
	if string(u.Payload) != `{"id":"6add8b87"}` || !u.Issued.Equal(issued) {
		t.Errorf("opened %+v", u)
	}
}

// Ensure that OpenKeyUpdate refuses everything but an update of the asked
// kind and name signed by the bundle's root key, with the error a kiosk
// logs.
func TestBundle_OpenKeyUpdate_Refuses(t *testing.T) {
	k, other := generate(t, 1), generate(t, 2)
	sign := func(k *Keys, kind, name string) []byte {
		s, err := k.SignKeyUpdate(KeyUpdate{Kind: kind, Name: name, Issued: issued, Payload: []byte("key")})
		if err != nil {
			t.Fatal(err)
		}
		return FormatKeyUpdate(s)
	}
	good := sign(k, KindPassKey, "b8d977b9")
	flipped := bytes.Replace(good, []byte("payload a2V5"), []byte("payload a2Vz"), 1)
	noRoot := k.Bundle()
	noRoot.RootKey = nil
	tests := []struct {
		name   string
		bundle *Bundle
		text   []byte
		kind   string
		key    string
		want   error // nil: any error
	}{
		{"bare key, as before signing", k.Bundle(), []byte("La3rpjyOoDqKCUz79x/1Ir22j+RYXlk4pC7MGLMiS3Q="), KindPassKey, "b8d977b9", ErrUnsigned},
		{"empty", k.Bundle(), nil, KindPassKey, "b8d977b9", ErrUnsigned},
		{"another province's root", k.Bundle(), sign(other, KindPassKey, "b8d977b9"), KindPassKey, "b8d977b9", ErrBadSignature},
		{"payload changed", k.Bundle(), flipped, KindPassKey, "b8d977b9", ErrBadSignature},
		{"other kind", k.Bundle(), sign(k, KindSealingKey, "b8d977b9"), KindPassKey, "b8d977b9", nil},
		{"other name (moved to another key)", k.Bundle(), good, KindPassKey, "00000000", nil},
		{"bundle without root", noRoot, good, KindPassKey, "b8d977b9", ErrNoRootKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.bundle.OpenKeyUpdate(tt.text, tt.kind, tt.key)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("OpenKeyUpdate: %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := k.Bundle().OpenKeyUpdate(good, KindPassKey, "b8d977b9"); err != nil {
		t.Errorf("the good update: %v", err)
	}
}

// Ensure that ParseKeyUpdate rejects text that FormatKeyUpdate would not
// write byte for byte.
func TestParseKeyUpdate_NonCanonical(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "keyupdate.txt"))
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(string) string{
		"no final newline": func(s string) string { return strings.TrimSuffix(s, "\n") },
		"CRLF":             func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") },
		"other version":    func(s string) string { return strings.Replace(s, " v1\n", " v2\n", 1) },
		"local time":       func(s string) string { return strings.Replace(s, "09:00:00Z", "18:00:00+09:00", 1) },
		"extra line":       func(s string) string { return s + "more\n" },
		"two spaces":       func(s string) string { return strings.Replace(s, "kind ", "kind  ", 1) },
		"upper-case id":    func(s string) string { return strings.Replace(s, "sig ", "sig X", 1) },
		"unpadded base64":  func(s string) string { return strings.Replace(s, "=\n", "\n", 1) },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseKeyUpdate([]byte(edit(string(good)))); err == nil {
				t.Errorf("parsed")
			}
		})
	}
}

// Ensure that keys without a root key refuse to sign, and that keygen's
// --add-root path (AddRootKey + Update) adds one to an old directory
// without touching its other keys.
func TestKeys_AddRootKey(t *testing.T) {
	k := generate(t, 5)
	k.root = nil // as made before the root key existed
	dir := filepath.Join(t.TempDir(), "keys")
	if err := k.Save(dir); err != nil {
		t.Fatal(err)
	}
	old, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if old.HasRootKey() || old.Bundle().RootKey != nil {
		t.Fatal("keys saved without a root key load with one")
	}
	if _, err := old.SignKeyUpdate(KeyUpdate{Kind: KindPassKey, Name: "x", Issued: issued, Payload: []byte("k")}); !errors.Is(err, ErrNoRootKey) {
		t.Errorf("sign without a root key: %v, want ErrNoRootKey", err)
	}
	if err := old.AddRootKey(testRand(9)); err != nil {
		t.Fatal(err)
	}
	if err := old.AddRootKey(nil); err == nil {
		t.Error("a second root key was added")
	}
	if err := old.Update(dir); err != nil {
		t.Fatal(err)
	}
	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertSameKeys(t, l, old)
	b, err := LoadBundle(filepath.Join(dir, BundleFile))
	if err != nil {
		t.Fatal(err)
	}
	if RootKeyID(b.RootKey) != old.RootKeyID() {
		t.Errorf("bundle root %s, want %s", RootKeyID(b.RootKey), old.RootKeyID())
	}
	// Another root over the saved one is refused.
	other := generate(t, 5)
	if err := other.Update(dir); err == nil {
		t.Error("Update replaced the root key")
	}
}

// Ensure that a bundle's SHA256 is the hash of the file Save writes.
func TestBundle_SHA256(t *testing.T) {
	b := generate(t, 1).Bundle()
	path := filepath.Join(t.TempDir(), "public.json")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	sum, err := b.SHA256()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "public.json.sha256"))
	if *update {
		os.WriteFile(filepath.Join("testdata", "public.json.sha256"), []byte(sum+"\n"), 0o644)
		want = []byte(sum + "\n")
	}
	if sum+"\n" != string(want) {
		t.Errorf("SHA256 %s, want %s", sum, want)
	}
	loaded, err := LoadBundle(path)
	if err != nil {
		t.Fatal(err)
	}
	if s2, _ := loaded.SHA256(); s2 != sum {
		t.Errorf("after a round trip %s, want %s", s2, sum)
	}
}

// FuzzParseKeyUpdate checks that whatever parses formats back to the same
// bytes, and that opening never panics.
func FuzzParseKeyUpdate(f *testing.F) {
	if good, err := os.ReadFile(filepath.Join("testdata", "keyupdate.txt")); err == nil {
		f.Add(good)
	}
	b := generateF(f).Bundle()
	f.Fuzz(func(t *testing.T, text []byte) {
		s, err := ParseKeyUpdate(text)
		b.OpenKeyUpdate(text, KindSealingKey, "current")
		if err != nil {
			return
		}
		if !bytes.Equal(FormatKeyUpdate(s), text) {
			t.Fatalf("%q parses but formats as %q", text, FormatKeyUpdate(s))
		}
	})
}

func generateF(f *testing.F) *Keys {
	k, err := Generate(testRand(1), "jeju")
	if err != nil {
		f.Fatal(err)
	}
	return k
}

// BenchmarkOpenKeyUpdate measures what a kiosk spends on one signed key
// update (parse, canonical check, Ed25519 verification).
func BenchmarkOpenKeyUpdate(b *testing.B) {
	k, err := Generate(testRand(1), "jeju")
	if err != nil {
		b.Fatal(err)
	}
	s, err := k.SignKeyUpdate(KeyUpdate{Kind: KindSealingKey, Name: "current", Issued: issued, Payload: []byte(`{"id":"6add8b87","key":"sB88PcdYSELPrr5MxfKnMmUcSuYEPrrDGnqgri/RbQI="}`)})
	if err != nil {
		b.Fatal(err)
	}
	text, bundle := FormatKeyUpdate(s), k.Bundle()
	for b.Loop() {
		if _, err := bundle.OpenKeyUpdate(text, KindSealingKey, "current"); err != nil {
			b.Fatal(err)
		}
	}
}
