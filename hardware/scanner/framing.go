package scanner

import (
	"errors"
	"fmt"
)

// DefaultMaxCodeLen is the longest code, in bytes, a [Framer] accepts when
// its MaxLen is zero. A version-40 QR code holds at most 4,296 alphanumeric
// characters, but a visitor pass is well under 200; 2 KiB leaves room for
// venue codes and stops a stuck or noisy line from growing a buffer forever.
const DefaultMaxCodeLen = 2048

// Framing bytes understood by [Framer].
const (
	stx = 0x02 // start of text: opens a frame
	etx = 0x03 // end of text: closes a frame
	lf  = '\n'
	cr  = '\r'
	del = 0x7f
)

// ErrCodeTooLong reports that a [Framer] discarded bytes because a code grew
// past its maximum length without a terminator.
var ErrCodeTooLong = errors.New("code too long")

// FramerStats counts what a [Framer] did with its input. The counters only
// grow.
type FramerStats struct {
	// Codes is the number of codes emitted.
	Codes uint64
	// TooLong is the number of codes discarded for exceeding the maximum
	// length.
	TooLong uint64
	// Partial is the number of unterminated codes discarded because a new
	// STX frame started (or Reset was called) before their terminator.
	Partial uint64
	// Control is the number of control bytes (other than framing bytes)
	// dropped from inside codes.
	Control uint64
}

// Framer cuts a byte stream from a scanner into codes.
//
// A code ends at CR, LF or ETX, so CR, LF, CRLF, "STX code ETX" and
// "STX code ETX CR LF" each give exactly one code: the empty frames between
// adjacent terminators are ignored. STX starts a new frame and discards any
// unterminated bytes before it (line noise, or a code cut off by an unplug).
// Other control bytes (0x00–0x1F, 0x7F) are dropped and counted; bytes
// 0x80–0xFF are kept as they are, so UTF-8 content survives (the pass
// verifier rejects anything it cannot parse).
//
// A code longer than MaxLen bytes is discarded entirely, up to its
// terminator, and reported as [ErrCodeTooLong]: the Framer never holds more
// than MaxLen bytes.
//
// Emitted codes never contain CR, LF, STX, ETX or any other control byte, are
// never empty and are at most MaxLen bytes long. Feeding a stream in any
// chunking gives the same codes as feeding it at once.
//
// The zero value is ready to use. A Framer is not safe for concurrent use.
type Framer struct {
	// MaxLen is the maximum code length in bytes; zero means
	// DefaultMaxCodeLen.
	MaxLen int

	buf      []byte
	skipping bool // discarding an overlong code until its terminator
	stats    FramerStats
}

func (f *Framer) maxLen() int {
	if f.MaxLen > 0 {
		return f.MaxLen
	}
	return DefaultMaxCodeLen
}

// Feed consumes p and calls emit for every complete code in it, in order.
// Bytes of an unterminated code are kept for the next call.
//
// Feed returns an error wrapping [ErrCodeTooLong] if it started discarding
// an overlong code during this call; the discarding goes on until the code's
// terminator, possibly in later calls, and is counted once in
// [FramerStats].TooLong. Codes before and after the overlong one are still
// emitted.
func (f *Framer) Feed(p []byte, emit func(string)) error {
	var err error
	limit := f.maxLen()
	for _, b := range p {
		switch {
		case b == cr || b == lf || b == etx:
			if !f.skipping && len(f.buf) > 0 {
				f.stats.Codes++
				emit(string(f.buf))
			}
			f.buf = f.buf[:0]
			f.skipping = false
		case b == stx:
			if len(f.buf) > 0 {
				f.stats.Partial++
			}
			f.buf = f.buf[:0]
			f.skipping = false
		case b < 0x20 || b == del:
			f.stats.Control++
		case f.skipping:
			// Still inside an overlong code.
		case len(f.buf) >= limit:
			f.stats.TooLong++
			f.buf = f.buf[:0]
			f.skipping = true
			if err == nil {
				err = fmt.Errorf("framer: discarding code longer than %d bytes: %w", limit, ErrCodeTooLong)
			}
		default:
			if f.buf == nil {
				f.buf = make([]byte, 0, min(limit, 256))
			}
			f.buf = append(f.buf, b)
		}
	}
	return err
}

// Pending reports how many bytes of an unterminated code the Framer holds.
func (f *Framer) Pending() int { return len(f.buf) }

// Stats returns the Framer's counters.
func (f *Framer) Stats() FramerStats { return f.stats }

// Reset discards any unterminated code (counting it as Partial) and starts
// afresh, as after a reconnect: bytes from before an unplug must never be
// glued to bytes from after it. Counters other than Partial are kept.
func (f *Framer) Reset() {
	if len(f.buf) > 0 {
		f.stats.Partial++
	}
	f.buf = f.buf[:0]
	f.skipping = false
}
