package ledger

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// leafHeader starts every leaf; its last word is the leaf's type.
const leafHeader = "anshim-ledger-leaf/v1 "

// Leaf types.
const (
	TypeBatch = "batch"
	TypeEvent = "event"
)

// MaxLeafSize bounds a leaf.
const MaxLeafSize = 4 << 10

// A Leaf is a parsed leaf: a *Batch or an *Event.
type Leaf interface {
	// MarshalText returns the leaf's canonical text.
	MarshalText() ([]byte, error)
	leafType() string
}

// Batch is the leaf of a kiosk batch the central stored:
//
//	anshim-ledger-leaf/v1 batch
//	device <device id>
//	seq <first> <last>
//	head <base64 chain hash after the last record>
//	sealed <base64 SHA-256 of the batch message as received>
//	stored <YYYY-MM-DD> <seqs> <base64 digest> [<base64 locator>]   (zero or more, see Stored)
//
// The stored lines commit to the records as the store keeps them, one
// line per KST day, so that the data audit can recompute them from the
// stored rows; leaves written before them have none (see NewBatch).
type Batch struct {
	Device      string
	First, Last uint64
	Head        [32]byte
	Sealed      [32]byte
	// Stored is the text of the stored lines, each ending in a newline
	// ("" in older leaves): a string, so that leaves compare with ==.
	// StoredLines parses it, FormatStored makes it.
	Stored string
}

// Event is the leaf of an audit event of the central: a day's keys
// destroyed, a trace, identities revealed, a registry change, an API
// token added or revoked.
//
//	anshim-ledger-leaf/v1 event
//	id <audit id>
//	time <RFC 3339, UTC, microseconds at most>
//	kind <kind>
//	who <account>                  (only when an account acted)
//	detail <JSON on one line, no personal data>
//
// The who line names the account that acted (an API token's name); the
// central's own events (a day destroyed) have none, so that leaves
// written before accounts existed keep their bytes. The event's case
// reference and reason are never in the leaf: the detail holds their
// SHA-256.
type Event struct {
	ID     uint64
	Time   time.Time
	Kind   string
	Who    string // "" for none
	Detail string
}

func (*Batch) leafType() string { return TypeBatch }
func (*Event) leafType() string { return TypeEvent }

// word reports whether s is a non-empty token without spaces or controls.
func word(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// MarshalText implements Leaf.
func (b *Batch) MarshalText() ([]byte, error) {
	if !word(b.Device) || len(b.Device) > 255 {
		return nil, fmt.Errorf("ledger: batch leaf: bad device id %q", b.Device)
	}
	if b.First == 0 || b.Last < b.First {
		return nil, fmt.Errorf("ledger: batch leaf: bad sequence range %d-%d", b.First, b.Last)
	}
	enc := base64.StdEncoding
	t := fmt.Appendf(nil, "%s%s\ndevice %s\nseq %d %d\nhead %s\nsealed %s\n", leafHeader, TypeBatch,
		b.Device, b.First, b.Last, enc.EncodeToString(b.Head[:]), enc.EncodeToString(b.Sealed[:]))
	if b.Stored != "" {
		lines, err := parseStoredText(b.Stored) // stored.go
		if err != nil {
			return nil, fmt.Errorf("ledger: batch leaf: %w", err)
		}
		if t, err = appendStored(t, b.First, b.Last, lines); err != nil {
			return nil, err
		}
		if !strings.HasSuffix(string(t), b.Stored) {
			return nil, errors.New("ledger: batch leaf: stored lines not in canonical form")
		}
	}
	return t, nil
}

// MarshalText implements Leaf.
func (e *Event) MarshalText() ([]byte, error) {
	if !word(e.Kind) {
		return nil, fmt.Errorf("ledger: event leaf: bad kind %q", e.Kind)
	}
	if e.Who != "" && (!word(e.Who) || len(e.Who) > 255) {
		return nil, fmt.Errorf("ledger: event leaf %s: bad account name %q", e.Kind, e.Who)
	}
	if !utf8.ValidString(e.Detail) || strings.ContainsAny(e.Detail, "\n\r") {
		return nil, fmt.Errorf("ledger: event leaf %s: detail is not one line of UTF-8", e.Kind)
	}
	t := e.Time.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	who := ""
	if e.Who != "" {
		who = "who " + e.Who + "\n"
	}
	return fmt.Appendf(nil, "%s%s\nid %d\ntime %s\nkind %s\n%sdetail %s\n", leafHeader, TypeEvent,
		e.ID, t, e.Kind, who, e.Detail), nil
}

// ErrMalformed is wrapped by ParseLeaf's and ParseCheckpoint's errors.
var ErrMalformed = errors.New("malformed")

// ParseLeaf parses a leaf's text. It accepts only the canonical text:
// parsing and marshaling again gives the same bytes.
func ParseLeaf(data []byte) (Leaf, error) {
	l, err := parseLeaf(data)
	if err != nil {
		return nil, fmt.Errorf("ledger: leaf: %w: %v", ErrMalformed, err)
	}
	again, err := l.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("ledger: leaf: %w: %v", ErrMalformed, err)
	}
	if !bytes.Equal(again, data) {
		return nil, fmt.Errorf("ledger: leaf: %w: not in canonical form", ErrMalformed)
	}
	return l, nil
}

func parseLeaf(data []byte) (Leaf, error) {
	if len(data) > MaxLeafSize {
		return nil, fmt.Errorf("%d bytes", len(data))
	}
	text, ok := strings.CutSuffix(string(data), "\n")
	if !ok {
		return nil, errors.New("no final newline")
	}
	lines := strings.Split(text, "\n")
	typ, ok := strings.CutPrefix(lines[0], leafHeader)
	if !ok {
		return nil, fmt.Errorf("first line %q is not %q + type", lines[0], leafHeader)
	}
	field := func(i int, key string) (string, error) {
		if i >= len(lines) {
			return "", fmt.Errorf("no %s line", key)
		}
		v, ok := strings.CutPrefix(lines[i], key+" ")
		if !ok {
			return "", fmt.Errorf("line %d is not %q", i+1, key)
		}
		return v, nil
	}
	hash := func(s string) ([32]byte, error) {
		var h [32]byte
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			return h, fmt.Errorf("bad hash %q", s)
		}
		copy(h[:], b)
		return h, nil
	}
	var vals []string
	var keys []string
	switch typ {
	case TypeBatch:
		keys = []string{"device", "seq", "head", "sealed"}
		for range max(len(lines)-5, 0) {
			keys = append(keys, "stored")
		}
	case TypeEvent:
		keys = []string{"id", "time", "kind", "detail"}
		if len(lines) == 6 {
			keys = []string{"id", "time", "kind", "who", "detail"}
		}
	default:
		return nil, fmt.Errorf("unknown type %q", typ)
	}
	if len(lines) != len(keys)+1 {
		return nil, fmt.Errorf("%d lines, want %d", len(lines), len(keys)+1)
	}
	for i, k := range keys {
		v, err := field(i+1, k)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	switch typ {
	case TypeBatch:
		b := &Batch{Device: vals[0]}
		first, last, ok := strings.Cut(vals[1], " ")
		var err1, err2 error
		b.First, err1 = strconv.ParseUint(first, 10, 64)
		b.Last, err2 = strconv.ParseUint(last, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad seq %q", vals[1])
		}
		var err error
		if b.Head, err = hash(vals[2]); err != nil {
			return nil, err
		}
		if b.Sealed, err = hash(vals[3]); err != nil {
			return nil, err
		}
		for _, v := range vals[4:] {
			b.Stored += "stored " + v + "\n"
		}
		return b, nil
	default:
		e := &Event{Kind: vals[2], Detail: vals[len(vals)-1]}
		if len(vals) == 5 {
			e.Who = vals[3]
		}
		var err error
		if e.ID, err = strconv.ParseUint(vals[0], 10, 64); err != nil {
			return nil, fmt.Errorf("bad id %q", vals[0])
		}
		if e.Time, err = time.Parse(time.RFC3339Nano, vals[1]); err != nil {
			return nil, fmt.Errorf("bad time %q", vals[1])
		}
		return e, nil
	}
}
