package wire

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/anshim/anshim/internal/binread"
	"time"

	"github.com/anshim/anshim/checkin"
)

// Limits.
const (
	// DefaultMaxBytes bounds an encoded batch (the server's max payload is
	// 1 MiB by default; staying well under it leaves room for headers).
	DefaultMaxBytes = 256 << 10
	// MaxRecords bounds the records in one batch.
	MaxRecords = 4096
	magic      = "ANB1"
)

// Stamp is the kiosk's clock at send time, used by the central to correct
// records taken while the kiosk's clock was wrong.
type Stamp struct {
	Wall    time.Time
	Quality checkin.TimeQuality
	Boot    [16]byte
	Mono    time.Duration
}

// Batch is a run of consecutive records from one device.
type Batch struct {
	Device  string
	Venue   string
	Prev    checkin.Hash
	Head    checkin.Head
	Sent    Stamp
	Records [][]byte // canonical checkin records
}

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed batch")

// FirstSeq is the sequence of the first record.
func (b *Batch) FirstSeq() uint64 { return b.Head.Seq - uint64(len(b.Records)) + 1 }

// MsgID is the JetStream de-duplication id: device/first-last.
func (b *Batch) MsgID() string {
	return fmt.Sprintf("%s/%d-%d", b.Device, b.FirstSeq(), b.Head.Seq)
}

// Size returns the encoded size.
func (b *Batch) Size() int {
	n := len(magic) + 2 + len(b.Device) + len(b.Venue) + 32 + 8 + 32 + ed25519.SignatureSize + 8 + 1 + 16 + 8 + 2
	for _, r := range b.Records {
		n += 2 + len(r)
	}
	return n
}

// MarshalBinary encodes the batch.
func (b *Batch) MarshalBinary() ([]byte, error) {
	switch {
	case len(b.Device) == 0 || len(b.Device) > checkin.MaxIDLen, len(b.Venue) == 0 || len(b.Venue) > checkin.MaxIDLen:
		return nil, fmt.Errorf("%w: device or venue id length", ErrMalformed)
	case len(b.Records) == 0 || len(b.Records) > MaxRecords:
		return nil, fmt.Errorf("%w: %d records", ErrMalformed, len(b.Records))
	case len(b.Head.Sig) != ed25519.SignatureSize:
		return nil, fmt.Errorf("%w: head signature of %d bytes", ErrMalformed, len(b.Head.Sig))
	case b.Head.Seq < uint64(len(b.Records)):
		return nil, fmt.Errorf("%w: head seq %d below record count", ErrMalformed, b.Head.Seq)
	}
	out := make([]byte, 0, b.Size())
	out = append(out, magic...)
	out = append(out, byte(len(b.Device)))
	out = append(out, b.Device...)
	out = append(out, byte(len(b.Venue)))
	out = append(out, b.Venue...)
	out = append(out, b.Prev[:]...)
	out = binary.BigEndian.AppendUint64(out, b.Head.Seq)
	out = append(out, b.Head.Hash[:]...)
	out = append(out, b.Head.Sig...)
	out = binary.BigEndian.AppendUint64(out, uint64(b.Sent.Wall.UnixNano()))
	out = append(out, byte(b.Sent.Quality))
	out = append(out, b.Sent.Boot[:]...)
	out = binary.BigEndian.AppendUint64(out, uint64(b.Sent.Mono))
	out = binary.BigEndian.AppendUint16(out, uint16(len(b.Records)))
	for _, r := range b.Records {
		if len(r) > 0xffff {
			return nil, fmt.Errorf("%w: record of %d bytes", ErrMalformed, len(r))
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(r)))
		out = append(out, r...)
	}
	return out, nil
}

// Decode parses a batch and its records. Records are returned decoded too,
// in order. It rejects truncated input, trailing bytes, records of another
// device, and records that are not consecutive ending at the head.
func Decode(data []byte) (*Batch, []*checkin.Record, error) {
	d := binread.New(data, ErrMalformed)
	if string(d.Bytes(len(magic))) != magic {
		if d.Err() != nil {
			return nil, nil, d.Err()
		}
		return nil, nil, fmt.Errorf("%w: not a version-1 batch", ErrMalformed)
	}
	b := &Batch{}
	b.Device = string(d.Bytes(int(d.U8())))
	b.Venue = string(d.Bytes(int(d.U8())))
	copy(b.Prev[:], d.Bytes(32))
	b.Head.Seq = d.U64()
	copy(b.Head.Hash[:], d.Bytes(32))
	b.Head.Sig = append([]byte(nil), d.Bytes(ed25519.SignatureSize)...)
	b.Sent.Wall = time.Unix(0, int64(d.U64())).UTC()
	b.Sent.Quality = checkin.TimeQuality(d.U8())
	copy(b.Sent.Boot[:], d.Bytes(16))
	b.Sent.Mono = time.Duration(d.U64())
	n := int(d.U16())
	if d.Err() != nil {
		return nil, nil, d.Err()
	}
	if n == 0 || n > MaxRecords || b.Head.Seq < uint64(n) || b.Device == "" || b.Venue == "" {
		return nil, nil, fmt.Errorf("%w: %d records ending at %d", ErrMalformed, n, b.Head.Seq)
	}
	recs := make([]*checkin.Record, 0, n)
	for i := range n {
		raw := d.Bytes(int(d.U16()))
		if d.Err() != nil {
			return nil, nil, fmt.Errorf("record %d of %d: %w", i+1, n, d.Err())
		}
		r, err := checkin.Decode(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: record %d of %d: %v", ErrMalformed, i+1, n, err)
		}
		want := b.Head.Seq - uint64(n) + 1 + uint64(i)
		if r.Device != b.Device || r.Seq != want {
			return nil, nil, fmt.Errorf("%w: record %d is %s/%d, want %s/%d", ErrMalformed, i+1, r.Device, r.Seq, b.Device, want)
		}
		b.Records = append(b.Records, append([]byte(nil), raw...))
		recs = append(recs, r)
	}
	if d.Rest() != 0 {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, d.Rest())
	}
	return b, recs, nil
}

// Errors of Verify.
var (
	ErrChain = errors.New("records do not chain to the signed head")
)

// Verify checks what needs only the device's public key: the records chain
// from Prev to the head's hash, and the head's signature is the device's.
// Continuity with the previous batch is the caller's to check.
func (b *Batch) Verify(pub ed25519.PublicKey) error {
	h := b.Prev
	for _, r := range b.Records {
		h = checkin.Next(h, r)
	}
	if err := b.Head.Verify(pub, b.Device); err != nil {
		return fmt.Errorf("batch %s: %w", b.MsgID(), err)
	}
	if h != b.Head.Hash {
		return fmt.Errorf("batch %s: %w", b.MsgID(), ErrChain)
	}
	return nil
}
