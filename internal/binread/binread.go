// Package binread reads the big-endian, length-prefixed binary formats of
// check-in records and batches, remembering the first error so decoders
// read straight through and check once.
package binread

import (
	"encoding/binary"
	"fmt"
)

// Reader consumes a byte slice. After the first short read every method
// returns zero values and Err reports "truncated", wrapping the sentinel
// the decoder gave.
type Reader struct {
	b         []byte
	err       error
	malformed error
}

// New returns a Reader over b whose errors wrap malformed.
func New(b []byte, malformed error) *Reader { return &Reader{b: b, malformed: malformed} }

// Err returns the first error.
func (r *Reader) Err() error { return r.err }

// Rest returns how many bytes are left unread.
func (r *Reader) Rest() int { return len(r.b) }

// Bytes returns the next n bytes (aliasing the input).
func (r *Reader) Bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = fmt.Errorf("%w: truncated", r.malformed)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// U8 reads one byte.
func (r *Reader) U8() uint8 {
	if b := r.Bytes(1); b != nil {
		return b[0]
	}
	return 0
}

// U16 reads a big-endian uint16.
func (r *Reader) U16() uint16 {
	if b := r.Bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

// U64 reads a big-endian uint64.
func (r *Reader) U64() uint64 {
	if b := r.Bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}
