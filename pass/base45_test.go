package pass

import (
	"bytes"
	"testing"
)

// base45Vectors are the examples of RFC 9285, sections 4.3 and 4.4, and the
// edges of the value range.
var base45Vectors = []struct {
	decoded, encoded string
}{
	{"", ""},
	{"AB", "BB8"},
	{"Hello!!", "%69 VD92EX0"},
	{"base-45", "UJCLQE7W581"},
	{"ietf!", "QED8WEX0"},
	{"\x00", "00"},
	{"\xff", "U5"},
	{"\x00\x00", "000"},
	{"\xff\xff", "FGW"},
	{"\xff\xff\xff", "FGWU5"},
}

// Ensure that encoding and decoding match the RFC 9285 examples.
func TestBase45_Vectors(t *testing.T) {
	for _, v := range base45Vectors {
		t.Run(v.encoded, func(t *testing.T) {
			if got := base45Encode([]byte(v.decoded)); got != v.encoded {
				t.Errorf("encode(%q) = %q, want %q", v.decoded, got, v.encoded)
			}
			if n := base45EncodedLen(len(v.decoded)); n != len(v.encoded) {
				t.Errorf("base45EncodedLen(%d) = %d, want %d", len(v.decoded), n, len(v.encoded))
			}
			got, err := base45Decode(v.encoded)
			if err != nil {
				t.Fatalf("decode(%q): %v", v.encoded, err)
			}
			if string(got) != v.decoded {
				t.Errorf("decode(%q) = %q, want %q", v.encoded, got, v.decoded)
			}
		})
	}
}

// Ensure that the decoder rejects every string that is not a canonical
// encoding.
func TestBase45_Invalid(t *testing.T) {
	for _, s := range []string{
		"0",           // length 3k+1
		"BB8B",        // length 3k+1
		"GGW",         // 65536: RFC 9285 section 4.4
		"ZZZ",         // 35 + 35*45 + 35*2025 > 65535
		":::",         // largest triple
		"V5",          // 256 in a pair
		"ZZ",          // 1610 in a pair
		"::",          // largest pair
		"bb8",         // lower case
		"BB8\n",       // newline
		"BB 8",        // length 3k+1 with a space
		"QED8WEX0=",   // padding
		"QED8WE\x000", // NUL
		"QED8WE\xff0", // high byte
		"%69 VD92EX_", // underscore
	} {
		if b, err := base45Decode(s); err == nil {
			t.Errorf("decode(%q) = %q, want an error", s, b)
		}
	}
}

// Ensure that every byte value survives encoding and decoding, in pairs and
// alone.
func TestBase45_AllBytes(t *testing.T) {
	src := make([]byte, 0, 513)
	for i := 0; i < 256; i++ {
		src = append(src, byte(i), byte(255-i))
	}
	src = append(src, 0x7f)
	enc := base45Encode(src)
	for i := 0; i < len(enc); i++ {
		if bytes.IndexByte([]byte(base45Alphabet), enc[i]) < 0 {
			t.Fatalf("encoding has %q outside the alphabet", enc[i])
		}
	}
	dec, err := base45Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec, src) {
		t.Fatal("round trip changed the bytes")
	}
}

// FuzzBase45 checks that decoding accepts only canonical encodings: whatever
// decodes re-encodes to the same string, and whatever is encoded decodes back.
func FuzzBase45(f *testing.F) {
	for _, seed := range base45Seeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if dec, err := base45Decode(s); err == nil {
			if enc := base45Encode(dec); enc != s {
				t.Fatalf("decode(%q) re-encodes to %q", s, enc)
			}
		}
		enc := base45Encode([]byte(s))
		dec, err := base45Decode(enc)
		if err != nil {
			t.Fatalf("decode(encode(%q)): %v", s, err)
		}
		if string(dec) != s {
			t.Fatalf("decode(encode(%q)) = %q", s, dec)
		}
	})
}
