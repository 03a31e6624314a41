package pass

import "github.com/anshim/anshim/internal/base45"

// The pass format's Base45 (RFC 9285) lives in internal/base45, shared with
// venue posters; these names keep this package's tests and fuzzers reading
// as they did.
const base45Alphabet = base45.Alphabet

type base45InvalidCharError = base45.InvalidCharError

var (
	errBase45Length   = base45.ErrLength
	errBase45Overflow = base45.ErrOverflow
)

func base45EncodedLen(n int) int                         { return base45.EncodedLen(n) }
func base45DecodedLen(n int) int                         { return base45.DecodedLen(n) }
func base45Append(dst, src []byte) []byte                { return base45.Append(dst, src) }
func base45Encode(src []byte) string                     { return base45.Encode(src) }
func base45DecodeInto(dst []byte, s string) (int, error) { return base45.DecodeInto(dst, s) }
func base45Decode(s string) ([]byte, error)              { return base45.Decode(s) }
