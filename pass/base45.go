package pass

import (
	"errors"
	"fmt"
)

// base45Alphabet is the 45-character alphabet of RFC 9285, Table 1. Every
// character is in the QR code alphanumeric set, so a Base45 string is encoded
// in alphanumeric mode (5.5 bits a character).
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// base45Values maps a byte to its Base45 value plus one; zero marks a byte
// outside the alphabet.
var base45Values = func() (v [256]uint8) {
	for i := 0; i < len(base45Alphabet); i++ {
		v[base45Alphabet[i]] = uint8(i + 1)
	}
	return v
}()

var (
	errBase45Length   = errors.New("base45: invalid length")
	errBase45Overflow = errors.New("base45: group value out of range")
)

// base45InvalidCharError reports a byte outside the Base45 alphabet at an offset.
type base45InvalidCharError int

func (e base45InvalidCharError) Error() string {
	return fmt.Sprintf("base45: invalid character at offset %d", int(e))
}

// base45EncodedLen returns the length of the Base45 encoding of n bytes.
func base45EncodedLen(n int) int { return n/2*3 + n%2*2 }

// base45DecodedLen returns the number of bytes that a Base45 string of n
// characters decodes to, or -1 when no valid encoding has that length.
func base45DecodedLen(n int) int {
	if n%3 == 1 {
		return -1
	}
	return n/3*2 + n%3/2
}

// base45Append appends the RFC 9285 Base45 encoding of src to dst.
func base45Append(dst, src []byte) []byte {
	for len(src) >= 2 {
		n := int(src[0])<<8 | int(src[1])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45%45], base45Alphabet[n/2025])
		src = src[2:]
	}
	if len(src) == 1 {
		n := int(src[0])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45])
	}
	return dst
}

// base45Encode returns the RFC 9285 Base45 encoding of src.
func base45Encode(src []byte) string {
	return string(base45Append(make([]byte, 0, base45EncodedLen(len(src))), src))
}

// base45DecodeInto decodes the Base45 string s into dst, which must have room
// for base45DecodedLen(len(s)) bytes, and returns the number of bytes written.
// Decoding is strict: it rejects characters outside the alphabet (including
// lower case letters), a length of 3k+1, and groups whose value has no
// encoding (a triple above 65535 or a pair above 255), so that every accepted
// string is the one canonical encoding of its bytes.
func base45DecodeInto(dst []byte, s string) (int, error) {
	if base45DecodedLen(len(s)) < 0 {
		return 0, errBase45Length
	}
	n := 0
	for i := 0; i < len(s); i += 3 {
		c, d := base45Values[s[i]], base45Values[s[i+1]]
		if c == 0 {
			return 0, base45InvalidCharError(i)
		}
		if d == 0 {
			return 0, base45InvalidCharError(i + 1)
		}
		v := int(c-1) + int(d-1)*45
		if i+2 == len(s) {
			if v > 0xff {
				return 0, errBase45Overflow
			}
			dst[n] = byte(v)
			n++
			break
		}
		e := base45Values[s[i+2]]
		if e == 0 {
			return 0, base45InvalidCharError(i + 2)
		}
		v += int(e-1) * 2025
		if v > 0xffff {
			return 0, errBase45Overflow
		}
		dst[n], dst[n+1] = byte(v>>8), byte(v)
		n += 2
	}
	return n, nil
}

// base45Decode returns the bytes of the strict Base45 string s.
func base45Decode(s string) ([]byte, error) {
	n := base45DecodedLen(len(s))
	if n < 0 {
		return nil, errBase45Length
	}
	dst := make([]byte, n)
	if _, err := base45DecodeInto(dst, s); err != nil {
		return nil, err
	}
	return dst, nil
}
