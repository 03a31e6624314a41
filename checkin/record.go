// Package checkin holds the check-in record that a kiosk writes and the
// central reads: its canonical binary encoding, the per-device hash chain,
// the device-signed chain head and the sealed personal part.
//
// # Record encoding (version 1)
//
//	version   u8   = 1
//	device    u8 length + bytes (1..64)
//	seq       u64 big-endian (≥ 1)
//	venue     u8 length + bytes (1..64)
//	wall      i64 big-endian, Unix nanoseconds (kiosk clock, may be wrong)
//	quality   u8   (1 ntp-synced, 2 rtc, 3 unsynced)
//	boot      16 bytes (Linux boot id)
//	mono      i64 big-endian, nanoseconds since boot
//	kind      u8   (1 entry, 2 exit)
//	sealed    u16 length + bytes (≤ 1024)
//
// Decoding is strict: a record that does not re-encode to the same bytes is
// rejected.
package checkin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/anshim/anshim/internal/binread"
	"time"
)

// Version is the record encoding version written by this package.
const Version = 1

// Limits of the encoding.
const (
	MaxIDLen     = 64
	MaxSealedLen = 1024
)

// Kind says whether a record is an entry or an exit scan.
type Kind uint8

// Record kinds.
const (
	Entry Kind = 1
	Exit  Kind = 2
)

// String returns "entry" or "exit".
func (k Kind) String() string {
	switch k {
	case Entry:
		return "entry"
	case Exit:
		return "exit"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// TimeQuality says how far the kiosk trusted its wall clock when it made a
// record.
type TimeQuality uint8

// Time qualities.
const (
	NTPSynced TimeQuality = 1
	RTC       TimeQuality = 2
	Unsynced  TimeQuality = 3
)

// String returns "ntp-synced", "rtc" or "unsynced".
func (q TimeQuality) String() string {
	switch q {
	case NTPSynced:
		return "ntp-synced"
	case RTC:
		return "rtc"
	case Unsynced:
		return "unsynced"
	}
	return fmt.Sprintf("quality(%d)", uint8(q))
}

// Record is one check-in as the kiosk stores and sends it.
type Record struct {
	Device  string
	Seq     uint64
	Venue   string
	Wall    time.Time     // kiosk wall clock at the scan
	Quality TimeQuality   // how far Wall can be trusted
	Boot    [16]byte      // boot id of the kiosk when it scanned
	Mono    time.Duration // monotonic time since that boot
	Kind    Kind
	Sealed  []byte // personal part, sealed to the province (see Seal)
}

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed check-in record")

func (r *Record) validate() error {
	switch {
	case len(r.Device) == 0 || len(r.Device) > MaxIDLen:
		return fmt.Errorf("%w: device id length %d", ErrMalformed, len(r.Device))
	case len(r.Venue) == 0 || len(r.Venue) > MaxIDLen:
		return fmt.Errorf("%w: venue id length %d", ErrMalformed, len(r.Venue))
	case r.Seq == 0:
		return fmt.Errorf("%w: sequence 0", ErrMalformed)
	case r.Quality < NTPSynced || r.Quality > Unsynced:
		return fmt.Errorf("%w: time quality %d", ErrMalformed, r.Quality)
	case r.Kind != Entry && r.Kind != Exit:
		return fmt.Errorf("%w: kind %d", ErrMalformed, r.Kind)
	case len(r.Sealed) == 0 || len(r.Sealed) > MaxSealedLen:
		return fmt.Errorf("%w: sealed length %d", ErrMalformed, len(r.Sealed))
	}
	return nil
}

// AppendBinary appends the canonical encoding of r to b.
func (r *Record) AppendBinary(b []byte) ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	b = append(b, Version, byte(len(r.Device)))
	b = append(b, r.Device...)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = append(b, byte(len(r.Venue)))
	b = append(b, r.Venue...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Wall.UnixNano()))
	b = append(b, byte(r.Quality))
	b = append(b, r.Boot[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Mono))
	b = append(b, byte(r.Kind))
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Sealed)))
	b = append(b, r.Sealed...)
	return b, nil
}

// MarshalBinary returns the canonical encoding of r.
func (r *Record) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, 64+len(r.Device)+len(r.Venue)+len(r.Sealed)))
}

// UnmarshalBinary decodes a canonical record. It rejects truncated input,
// trailing bytes, unknown versions and out-of-range fields.
func (r *Record) UnmarshalBinary(data []byte) error {
	d := binread.New(data, ErrMalformed)
	if v := d.U8(); d.Err() == nil && v != Version {
		return fmt.Errorf("%w: version %d", ErrMalformed, v)
	}
	var out Record
	out.Device = string(d.Bytes(int(d.U8())))
	out.Seq = d.U64()
	out.Venue = string(d.Bytes(int(d.U8())))
	out.Wall = time.Unix(0, int64(d.U64())).UTC()
	out.Quality = TimeQuality(d.U8())
	copy(out.Boot[:], d.Bytes(16))
	out.Mono = time.Duration(d.U64())
	out.Kind = Kind(d.U8())
	n := int(d.U16())
	if n > MaxSealedLen {
		return fmt.Errorf("%w: sealed length %d", ErrMalformed, n)
	}
	out.Sealed = append([]byte(nil), d.Bytes(n)...)
	if d.Err() != nil {
		return d.Err()
	}
	if d.Rest() != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, d.Rest())
	}
	if err := out.validate(); err != nil {
		return err
	}
	*r = out
	return nil
}

// Decode decodes a canonical record.
func Decode(data []byte) (*Record, error) {
	r := new(Record)
	if err := r.UnmarshalBinary(data); err != nil {
		return nil, err
	}
	return r, nil
}
