package wire

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

// golden compares got with testdata/name, rewriting it with -update-golden.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", path, got, want)
	}
}

// Ensure that a pass key's name and payload are the golden ones, parse
// back to the key, and that a payload under another name, or not a key,
// is refused.
func TestPassKey_RoundTrip(t *testing.T) {
	pk := testKey(1)
	k := pass.PublicKey{ID: pass.KeyIDOf(pk), Key: pk}
	name, payload := PassKeyName(k.ID), FormatPassKey(k)
	if name != "34750f98" {
		t.Errorf("PassKeyName = %q", name)
	}
	golden(t, "passkey.txt", payload)
	got, err := ParsePassKey(name, payload)
	if err != nil || got.ID != k.ID || !bytes.Equal(got.Key, k.Key) {
		t.Fatalf("ParsePassKey = %+v, %v; want %+v", got, err, k)
	}
	if _, err := ParsePassKey(name, append(payload, '\n')); err != nil {
		t.Errorf("a trailing newline: %v", err)
	}
	for _, tc := range []struct {
		name, payload, err string
	}{
		{"34750f99", string(payload), "does not match"},
		{"34750f9", string(payload), "8 hex digits"},
		{"zz750f98", string(payload), "8 hex digits"},
		{name, "not base64!", "base64 Ed25519"},
		{name, "AAAA", "base64 Ed25519"},
	} {
		if _, err := ParsePassKey(tc.name, []byte(tc.payload)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParsePassKey(%q, %q) = %v, want an error with %q", tc.name, tc.payload, err, tc.err)
		}
	}
}

// Ensure that a sealing key encodes to its golden vector and back, and
// that a key whose id is not its own is refused.
func TestSealingKey_RoundTrip(t *testing.T) {
	key := [32]byte{0x5e, 0xa1}
	k := SealingKey{ID: province.SealingKeyID(&key), Key: key}
	data, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sealing-key.json", data)
	got, err := ParseSealingKey(data)
	if err != nil || got != k {
		t.Fatalf("ParseSealingKey = %+v, %v; want %+v", got, err, k)
	}
	for _, tc := range []struct{ data, err string }{
		{`{"id":"00000000","key":"XqEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`, "does not match"},
		{`{"id":"f1abd9b9","key":"AAAA"}`, "X25519"},
		{`{"id":"f1abd9b9"}`, "X25519"},
		{`not json`, "sealing key"},
	} {
		if _, err := ParseSealingKey([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseSealingKey(%s) = %v, want an error with %q", tc.data, err, tc.err)
		}
	}
}

// Ensure that CheckRevocationID accepts a pass's revocation id and only
// 32 lower-case hex digits.
func TestCheckRevocationID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"0123456789ABCDEF0123456789abcdef", false},
		{"0123456789abcdef0123456789abcde", false},
		{"0123456789abcdef0123456789abcdef0", false},
		{"", false},
	} {
		if err := CheckRevocationID(tc.id); (err == nil) != tc.ok {
			t.Errorf("CheckRevocationID(%q) = %v, want ok %v", tc.id, err, tc.ok)
		}
	}
}
