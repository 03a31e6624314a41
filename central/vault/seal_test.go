package vault

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// testKEK is the key-encryption key of the test vectors: bytes 1 to 32.
func testKEK() *[32]byte {
	var kek [32]byte
	for i := range kek {
		kek[i] = byte(i + 1)
	}
	return &kek
}

func testKeys(t *testing.T) *keys {
	t.Helper()
	k, err := deriveKeys(testKEK())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The vectors, computed independently (Python: HKDF-SHA256 of RFC 5869,
// HMAC-SHA256, HChaCha20 and ChaCha20-Poly1305 from the cryptography
// package): a change of a label or a format would orphan every stored
// index or identity.
const (
	vectorIndex  = "6f5b1779a70ffa38f9cf50c36fe630177ecfd5357555ee70a8e882e24faac6b9"
	vectorID     = "p-0123456789abcdef"
	vectorName   = "김민수"
	vectorPhone  = "+821012345678"
	vectorSealed = "01000000000000000000000000000000000000000000000000015e895d55be5e97f82c7db8541754dad0f2b3b984f372bc3918a00d45704cf69bdc48d1c85cb0711259021adf38cb847de98ecf20c316b2b421c23afed85652ab064d02b787a60a87d7d813c2c49235bccf2f6c1e8a74c274ba22d1ed9ad0014bbc0a6227806a099284f056924ac211fc88a5d3976d806116d1cffd65f2dfc71dade7f378d526a6fc93842b5b8ff22a2ae8c8688d64081f8def07ba3cf43474a671487586b55e01daa90076c2639192a8197f0baa81a6a48cde203d5831d4b029f17127a44a86679d04d8b63972d61720038fda68eb94cc6bd0fba5f6d1036649457d5a7cbafa6531a6049bce52ca7ab6f8e011d7d1860a1fe74c24ce58522d3a141fb9105eee8e656dc70c79674ae4" // nonce of zeros
)

// Ensure that the blind index and the sealed identity match the vectors.
func TestKeys_Vectors(t *testing.T) {
	k := testKeys(t)
	if ix := k.blindIndex(vectorPhone); hex.EncodeToString(ix[:]) != vectorIndex {
		t.Errorf("blind index = %x, want %s", ix, vectorIndex)
	}
	sealed, err := k.sealIdentity(bytes.NewReader(make([]byte, 24)), vectorID, vectorName, vectorPhone)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sealed); got != vectorSealed {
		t.Errorf("sealed identity =\n%s\nwant\n%s", got, vectorSealed)
	}
	want, _ := hex.DecodeString(vectorSealed)
	name, phone, err := k.openIdentity(vectorID, want)
	if err != nil || name != vectorName || phone != vectorPhone {
		t.Errorf("open the vector = %q, %q, %v", name, phone, err)
	}
}

// Ensure that a sealed identity opens only under its KEK, for its person,
// untampered; and that every sealed identity has the same length, whatever
// the name.
func TestSealIdentity(t *testing.T) {
	k := testKeys(t)
	rand := bytes.NewReader(bytes.Repeat([]byte{7}, 1<<10))
	sealed, err := k.sealIdentity(rand, "p-1", "Alice", "+821012345678")
	if err != nil {
		t.Fatal(err)
	}
	if name, phone, err := k.openIdentity("p-1", sealed); err != nil || name != "Alice" || phone != "+821012345678" {
		t.Fatalf("open = %q, %q, %v", name, phone, err)
	}
	if bytes.Contains(sealed, []byte("Alice")) || bytes.Contains(sealed, []byte("1012345678")) {
		t.Fatal("sealed identity holds the name or the number")
	}
	other := *testKEK()
	other[0] ^= 1
	ko, err := deriveKeys(&other)
	if err != nil {
		t.Fatal(err)
	}
	if ko.blindIndex("+821012345678") == k.blindIndex("+821012345678") {
		t.Error("the blind index does not depend on the KEK")
	}
	if k.blindIndex("+821012345678") == k.blindIndex("+821012345679") {
		t.Error("two numbers have the same blind index")
	}
	for name, tt := range map[string]struct {
		k      *keys
		id     string
		sealed []byte
	}{
		"another KEK":    {ko, "p-1", sealed},
		"another person": {k, "p-2", sealed},
		"flipped bit":    {k, "p-1", func() []byte { s := bytes.Clone(sealed); s[100] ^= 1; return s }()},
		"other version":  {k, "p-1", func() []byte { s := bytes.Clone(sealed); s[0] = 2; return s }()},
		"truncated":      {k, "p-1", sealed[:len(sealed)-1]},
		"empty":          {k, "p-1", nil},
	} {
		if _, _, err := tt.k.openIdentity(tt.id, tt.sealed); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	long, err := k.sealIdentity(rand, "p-1", strings.Repeat("가", MaxNameBytes/3), "+821912345678")
	if err != nil {
		t.Fatal(err)
	}
	if len(long) != len(sealed) || len(sealed) != sealedLen {
		t.Errorf("sealed lengths %d and %d, want %d for any name", len(sealed), len(long), sealedLen)
	}
	if _, err := deriveKeys(&[32]byte{}); err == nil {
		t.Error("deriveKeys accepted a KEK of zeros")
	}
}

// Ensure that names are trimmed and checked, errors naming the field.
func TestCheckName(t *testing.T) {
	for _, tt := range []struct{ in, want, reason string }{
		{"김민수", "김민수", ""},
		{"  Kim Min-su ", "Kim Min-su", ""},
		{strings.Repeat("a", MaxNameBytes), strings.Repeat("a", MaxNameBytes), ""},
		{"", "", "empty"},
		{" \t ", "", "empty"},
		{strings.Repeat("a", MaxNameBytes+1), "", "longer than"},
		{"Kim\x00", "", "control characters"},
		{"Kim\nLee", "", "control characters"},
		{"Kim\u202eLee", "", "holds an invisible character (U+202E) at byte 3"},
		{"\u200b", "", "holds an invisible character (U+200B)"},
		{"--", "", "holds no letter or digit"},
		{"Kim\xff", "", "UTF-8"},
	} {
		got, err := checkName(tt.in)
		if tt.reason == "" {
			if err != nil || got != tt.want {
				t.Errorf("checkName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "name" || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("checkName(%q) = %v, want a name error with %q", tt.in, err, tt.reason)
		}
	}
}
