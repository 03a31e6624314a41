package registry

import (
	"errors"
	"fmt"
)

// This is RFC 9285 Base45 as package pass has it (unexported there): a
// poster code must be read by the same strict rules as a pass. Keep the
// two in step, or move both to a shared internal package.

// base45Alphabet is the 45-character alphabet of RFC 9285, Table 1: all in
// the QR code alphanumeric set.
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

// base45InvalidCharError reports a byte outside the alphabet at an offset.
type base45InvalidCharError int

func (e base45InvalidCharError) Error() string {
	return fmt.Sprintf("base45: invalid character at offset %d", int(e))
}

// base45Append appends the Base45 encoding of src to dst.
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

// base45Decode decodes the Base45 string s strictly: it rejects characters
// outside the alphabet (lower case letters too), a length of 3k+1, and
// groups whose value has no encoding, so that every accepted string is the
// one encoding of its bytes.
func base45Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, errBase45Length
	}
	dst := make([]byte, 0, len(s)/3*2+len(s)%3/2)
	for i := 0; i < len(s); i += 3 {
		c, d := base45Values[s[i]], base45Values[s[i+1]]
		if c == 0 {
			return nil, base45InvalidCharError(i)
		}
		if d == 0 {
			return nil, base45InvalidCharError(i + 1)
		}
		v := int(c-1) + int(d-1)*45
		if i+2 == len(s) {
			if v > 0xff {
				return nil, errBase45Overflow
			}
			dst = append(dst, byte(v))
			break
		}
		e := base45Values[s[i+2]]
		if e == 0 {
			return nil, base45InvalidCharError(i + 2)
		}
		v += int(e-1) * 2025
		if v > 0xffff {
			return nil, errBase45Overflow
		}
		dst = append(dst, byte(v>>8), byte(v))
	}
	return dst, nil
}
