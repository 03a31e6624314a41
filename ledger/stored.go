package ledger

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Stored is one "stored" line of a batch leaf: the check-ins of one KST
// day that the batch stored, committed to as the store keeps them, so that
// an auditor can recompute the commitment from the stored rows alone
// (central/audit). The batch's Sealed hash cannot serve: the store re-seals
// each personal part under its day key.
//
//	stored <YYYY-MM-DD> <seqs> <base64 digest> [<base64 locator>]
//
// seqs lists the sequence numbers in ascending order as comma-separated
// runs ("4-9,12"); digest is StoredDigest of the records; the locator,
// present when there are two records or more, is StoredLocator: it names
// the one record that was altered when only one was.
type Stored struct {
	Day     string   // KST calendar day, YYYY-MM-DD
	Seqs    []uint64 // ascending
	Digest  [32]byte
	Locator []byte // StoredLocator; nil for a single record
}

// StoredRecord is a check-in as the central's store keeps it: every field
// that EncodeStored commits to. The central converts its stored rows to it
// (central/ledgerstore): the ledger imports nothing of the central.
type StoredRecord struct {
	Device  string
	Seq     uint64
	Venue   string
	Kind    uint8 // checkin.Kind
	Quality uint8 // checkin.TimeQuality
	Flags   uint32
	RawWall time.Time
	Boot    [16]byte
	Mono    time.Duration
	Time    time.Time // corrected time
	Sealed  []byte    // the personal part, sealed under its day key
	Tag     [16]byte
	Hash    [32]byte // the device's chain hash after this record
}

// MaxStoredRecords bounds the records a batch leaf's stored lines list
// (wire.MaxRecords).
const MaxStoredRecords = 4096

// locatorPart is the length of one truncated digest of a locator.
const locatorPart = 8

var kst = time.FixedZone("KST", 9*60*60)

// StoredDay returns the KST calendar day of t as YYYY-MM-DD: the day of a
// check-in whose corrected time is t, the day its retention counts from.
func StoredDay(t time.Time) string { return t.In(kst).Format(time.DateOnly) }

// EncodeStored appends the canonical encoding of a stored check-in to b:
// every field the store keeps and the audit can read back, in this order,
// integers big-endian, times as Unix nanoseconds (math.MinInt64 for the
// zero time):
//
//	version u8 = 1
//	device  u8 length + bytes
//	seq     u64
//	venue   u8 length + bytes
//	kind u8, quality u8, flags u32
//	raw wall i64, boot 16 bytes, mono i64, corrected time i64
//	sealed  u32 length + bytes (as stored: under the day key)
//	tag 16 bytes, chain hash 32 bytes
//
// Received is left out: it is when the central stored the record, not
// part of it. This is the only definition of the encoding; ingest and the
// audit both use it.
func EncodeStored(b []byte, c StoredRecord) ([]byte, error) {
	if len(c.Device) > 255 || len(c.Venue) > 255 || uint64(len(c.Sealed)) > math.MaxUint32 {
		return nil, fmt.Errorf("ledger: stored check-in %q/%d: device, venue or sealed part too long", c.Device, c.Seq)
	}
	nanos := func(t time.Time) uint64 {
		if t.IsZero() {
			return 1 << 63
		}
		return uint64(t.UnixNano())
	}
	b = append(b, 1, byte(len(c.Device)))
	b = append(b, c.Device...)
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	b = append(b, byte(len(c.Venue)))
	b = append(b, c.Venue...)
	b = append(b, c.Kind, c.Quality)
	b = binary.BigEndian.AppendUint32(b, c.Flags)
	b = binary.BigEndian.AppendUint64(b, nanos(c.RawWall))
	b = append(b, c.Boot[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Mono))
	b = binary.BigEndian.AppendUint64(b, nanos(c.Time))
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.Sealed)))
	b = append(b, c.Sealed...)
	b = append(b, c.Tag[:]...)
	return append(b, c.Hash[:]...), nil
}

// StoredHash returns the hash of one stored check-in: SHA-256 of
// "anshim-stored/v1\n" and EncodeStored.
func StoredHash(c StoredRecord) ([32]byte, error) {
	b, err := EncodeStored([]byte("anshim-stored/v1\n"), c)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// StoredDigest returns the digest of a stored line: SHA-256 of
// "anshim-stored-day/v1\n", the day, a newline and the StoredHash of each
// record in sequence order.
func StoredDigest(day string, hashes [][32]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("anshim-stored-day/v1\n" + day + "\n"))
	for _, x := range hashes {
		h.Write(x[:])
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// StoredLocator returns the locator of a stored line of n = len(hashes)
// records: for each bit j of a record's position in the line (j <
// bits.Len(n−1)), the first 8 bytes of the SHA-256 of the hashes of the
// records whose position has bit j set, then of those whose bit j is
// clear. When exactly one record was altered, exactly one digest of each
// pair differs and the set ones spell its position; two or more altered
// records make both digests of some pair differ. nil for n < 2.
func StoredLocator(hashes [][32]byte) []byte {
	if len(hashes) < 2 {
		return nil
	}
	k := bits.Len(uint(len(hashes) - 1))
	out := make([]byte, 0, 2*k*locatorPart)
	for j := range k {
		for _, set := range []bool{true, false} {
			h := sha256.New()
			fmt.Fprintf(h, "anshim-stored-locator/v1\n%d %t\n", j, set)
			for i, x := range hashes {
				if (i>>j&1 == 1) == set {
					h.Write(x[:])
				}
			}
			out = h.Sum(out)[:len(out)+locatorPart]
		}
	}
	return out
}

// StoredLines returns the stored lines of the check-ins recs (any order):
// one per KST day of their corrected times, days ascending.
func StoredLines(recs []StoredRecord) ([]Stored, error) {
	byDay := make(map[string][]StoredRecord)
	var days []string
	for _, r := range recs {
		d := StoredDay(r.Time)
		if byDay[d] == nil {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], r)
	}
	slices.Sort(days)
	out := make([]Stored, 0, len(days))
	for _, d := range days {
		rs := byDay[d]
		slices.SortFunc(rs, func(a, b StoredRecord) int { return cmp.Compare(a.Seq, b.Seq) })
		s := Stored{Day: d, Seqs: make([]uint64, len(rs))}
		hashes := make([][32]byte, len(rs))
		for i, r := range rs {
			h, err := StoredHash(r)
			if err != nil {
				return nil, err
			}
			s.Seqs[i], hashes[i] = r.Seq, h
		}
		s.Digest, s.Locator = StoredDigest(d, hashes), StoredLocator(hashes)
		out = append(out, s)
	}
	return out, nil
}

// NewBatch returns the leaf of a batch of device with sequence range
// first–last, chain head head and message hash sealed, whose records recs
// the central is about to store: with its stored lines, unless they would
// make the leaf longer than MaxLeafSize (then without: such a leaf is
// checked only on its range and head, as a leaf written before stored
// lines existed).
func NewBatch(device string, first, last uint64, head, sealed [32]byte, recs []StoredRecord) Batch {
	b := Batch{Device: device, First: first, Last: last, Head: head, Sealed: sealed}
	if len(recs) == 0 || len(recs) > MaxStoredRecords {
		return b
	}
	lines, err := StoredLines(recs)
	if err != nil {
		return b
	}
	text, err := FormatStored(first, last, lines)
	if err != nil {
		return b
	}
	with := b
	with.Stored = text
	if t, err := with.MarshalText(); err == nil && len(t) <= MaxLeafSize {
		return with
	}
	return b
}

// FormatStored returns the text of stored lines for Batch.Stored, for a
// batch of sequence range first–last.
func FormatStored(first, last uint64, lines []Stored) (string, error) {
	t, err := appendStored(nil, first, last, lines)
	return string(t), err
}

// StoredLines parses the batch's stored lines (none in older leaves).
func (b *Batch) StoredLines() ([]Stored, error) {
	if b.Stored == "" {
		return nil, nil
	}
	lines, err := parseStoredText(b.Stored)
	if err != nil {
		return nil, fmt.Errorf("ledger: batch leaf of %s %d-%d: %w", b.Device, b.First, b.Last, err)
	}
	return lines, nil
}

// parseStoredText parses the text of Batch.Stored.
func parseStoredText(text string) ([]Stored, error) {
	body, ok := strings.CutSuffix(text, "\n")
	if !ok {
		return nil, fmt.Errorf("stored lines without a final newline")
	}
	var out []Stored
	for line := range strings.SplitSeq(body, "\n") {
		v, ok := strings.CutPrefix(line, "stored ")
		if !ok {
			return nil, fmt.Errorf("line %q is not a stored line", line)
		}
		s, err := parseStored(v)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// appendStored appends the text of stored lines to t, checking that they
// are canonical: days ascending, records ascending within first–last, no
// record twice, each line's locator of the right length.
func appendStored(t []byte, first, last uint64, lines []Stored) ([]byte, error) {
	enc := base64.StdEncoding
	seen := 0
	all := make(map[uint64]bool)
	for i, s := range lines {
		if _, err := time.Parse(time.DateOnly, s.Day); err != nil || i > 0 && s.Day <= lines[i-1].Day {
			return nil, fmt.Errorf("ledger: batch leaf: stored day %q is not a YYYY-MM-DD after the one before", s.Day)
		}
		if len(s.Seqs) == 0 {
			return nil, fmt.Errorf("ledger: batch leaf: stored day %s without records", s.Day)
		}
		seen += len(s.Seqs)
		if seen > MaxStoredRecords {
			return nil, fmt.Errorf("ledger: batch leaf: more than %d stored records", MaxStoredRecords)
		}
		want := 0
		if len(s.Seqs) >= 2 {
			want = 2 * bits.Len(uint(len(s.Seqs)-1)) * locatorPart
		}
		if len(s.Locator) != want {
			return nil, fmt.Errorf("ledger: batch leaf: stored day %s: locator of %d bytes, want %d", s.Day, len(s.Locator), want)
		}
		t = fmt.Appendf(t, "stored %s ", s.Day)
		for j := 0; j < len(s.Seqs); {
			q := s.Seqs[j]
			if q < first || q > last || j > 0 && q <= s.Seqs[j-1] || all[q] {
				return nil, fmt.Errorf("ledger: batch leaf: stored record %d out of order, twice or outside %d-%d", q, first, last)
			}
			all[q] = true
			k := j
			for k+1 < len(s.Seqs) && s.Seqs[k+1] == s.Seqs[k]+1 {
				k++
				if all[s.Seqs[k]] {
					return nil, fmt.Errorf("ledger: batch leaf: stored record %d twice", s.Seqs[k])
				}
				all[s.Seqs[k]] = true
			}
			if j > 0 {
				t = append(t, ',')
			}
			t = strconv.AppendUint(t, q, 10)
			if k > j {
				t = append(t, '-')
				t = strconv.AppendUint(t, s.Seqs[k], 10)
			}
			j = k + 1
		}
		if s.Seqs[len(s.Seqs)-1] > last {
			return nil, fmt.Errorf("ledger: batch leaf: stored record %d outside %d-%d", s.Seqs[len(s.Seqs)-1], first, last)
		}
		t = append(t, ' ')
		t = enc.AppendEncode(t, s.Digest[:])
		if s.Locator != nil {
			t = append(t, ' ')
			t = enc.AppendEncode(t, s.Locator)
		}
		t = append(t, '\n')
	}
	return t, nil
}

// parseStored parses the value of a stored line (after "stored ").
func parseStored(v string) (Stored, error) {
	f := strings.Split(v, " ")
	if len(f) != 3 && len(f) != 4 {
		return Stored{}, fmt.Errorf("stored line %q", v)
	}
	s := Stored{Day: f[0]}
	for run := range strings.SplitSeq(f[1], ",") {
		a, z, isRange := strings.Cut(run, "-")
		lo, err1 := strconv.ParseUint(a, 10, 64)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.ParseUint(z, 10, 64)
		}
		if err1 != nil || err2 != nil || hi < lo || hi-lo >= MaxStoredRecords || len(s.Seqs)+int(hi-lo) >= MaxStoredRecords {
			return Stored{}, fmt.Errorf("stored records %q", f[1])
		}
		for q := lo; ; q++ {
			s.Seqs = append(s.Seqs, q)
			if q == hi {
				break
			}
		}
	}
	d, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil || len(d) != 32 {
		return Stored{}, fmt.Errorf("bad stored digest %q", f[2])
	}
	copy(s.Digest[:], d)
	if len(f) == 4 {
		if s.Locator, err = base64.StdEncoding.DecodeString(f[3]); err != nil || len(s.Locator) == 0 {
			return Stored{}, fmt.Errorf("bad stored locator %q", f[3])
		}
	}
	return s, nil
}

// Locate compares a stored line's locator with the one of the hashes of
// the records as stored now (same positions) and returns the position of
// the one altered record, or ok false when it cannot be named: no
// locator, nothing differs, or more than one record differs.
func (s *Stored) Locate(hashes [][32]byte) (pos int, ok bool) {
	now := StoredLocator(hashes)
	if len(s.Locator) == 0 || len(now) != len(s.Locator) {
		return 0, false
	}
	for j := 0; j < len(now)/(2*locatorPart); j++ {
		at := 2 * j * locatorPart
		set := !bytes.Equal(now[at:at+locatorPart], s.Locator[at:at+locatorPart])
		clr := !bytes.Equal(now[at+locatorPart:at+2*locatorPart], s.Locator[at+locatorPart:at+2*locatorPart])
		switch {
		case set && clr, !set && !clr:
			return 0, false
		case set:
			pos |= 1 << j
		}
	}
	return pos, pos < len(hashes)
}
