// Package base45 is the Base45 encoding of RFC 9285: bytes as characters of
// the QR code alphanumeric set, for passes and venue posters. Decoding is
// strict: characters outside the alphabet, a length of 1 mod 3 and group
// values above 65535 are refused.
package base45

import (
	"errors"
	"fmt"
)

// Alphabet is the 45-character alphabet of RFC 9285, Table 1. Every
// character is in the QR code alphanumeric set, so a Base45 string is encoded
// in alphanumeric mode (5.5 bits a character).
const Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// values maps a byte to its Base45 value plus one; zero marks a byte
// outside the alphabet.
var values = func() (v [256]uint8) {
	for i := 0; i < len(Alphabet); i++ {
		v[Alphabet[i]] = uint8(i + 1)
	}
	return v
}()

var (
	ErrLength   = errors.New("base45: invalid length")
	ErrOverflow = errors.New("base45: group value out of range")
)

// InvalidCharError reports a byte outside the Base45 alphabet at an offset.
type InvalidCharError int

func (e InvalidCharError) Error() string {
	return fmt.Sprintf("base45: invalid character at offset %d", int(e))
}

// EncodedLen returns the length of the Base45 encoding of n bytes.
func EncodedLen(n int) int { return n/2*3 + n%2*2 }

// DecodedLen returns the number of bytes that a Base45 string of n
// characters decodes to, or -1 when no valid encoding has that length.
func DecodedLen(n int) int {
	if n%3 == 1 {
		return -1
	}
	return n/3*2 + n%3/2
}

// Append appends the RFC 9285 Base45 encoding of src to dst.
func Append(dst, src []byte) []byte {
	for len(src) >= 2 {
		n := int(src[0])<<8 | int(src[1])
		dst = append(dst, Alphabet[n%45], Alphabet[n/45%45], Alphabet[n/2025])
		src = src[2:]
	}
	if len(src) == 1 {
		n := int(src[0])
		dst = append(dst, Alphabet[n%45], Alphabet[n/45])
	}
	return dst
}

// Encode returns the RFC 9285 Base45 encoding of src.
func Encode(src []byte) string {
	return string(Append(make([]byte, 0, EncodedLen(len(src))), src))
}

// DecodeInto decodes the Base45 string s into dst, which must have room
// for DecodedLen(len(s)) bytes, and returns the number of bytes written.
// Decoding is strict: it rejects characters outside the alphabet (including
// lower case letters), a length of 3k+1, and groups whose value has no
// encoding (a triple above 65535 or a pair above 255), so that every accepted
// string is the one canonical encoding of its bytes.
func DecodeInto(dst []byte, s string) (int, error) {
	if DecodedLen(len(s)) < 0 {
		return 0, ErrLength
	}
	n := 0
	for i := 0; i < len(s); i += 3 {
		c, d := values[s[i]], values[s[i+1]]
		if c == 0 {
			return 0, InvalidCharError(i)
		}
		if d == 0 {
			return 0, InvalidCharError(i + 1)
		}
		v := int(c-1) + int(d-1)*45
		if i+2 == len(s) {
			if v > 0xff {
				return 0, ErrOverflow
			}
			dst[n] = byte(v)
			n++
			break
		}
		e := values[s[i+2]]
		if e == 0 {
			return 0, InvalidCharError(i + 2)
		}
		v += int(e-1) * 2025
		if v > 0xffff {
			return 0, ErrOverflow
		}
		dst[n], dst[n+1] = byte(v>>8), byte(v)
		n += 2
	}
	return n, nil
}

// Decode returns the bytes of the strict Base45 string s.
func Decode(s string) ([]byte, error) {
	n := DecodedLen(len(s))
	if n < 0 {
		return nil, ErrLength
	}
	dst := make([]byte, n)
	if _, err := DecodeInto(dst, s); err != nil {
		return nil, err
	}
	return dst, nil
}

// IsAlphabet reports whether c is one of the 45 characters.
func IsAlphabet(c byte) bool { return values[c] != 0 }
