package ledger_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/anshim/anshim/ledger"
)

// records returns n check-ins of device k-1 from seq first, one a minute
// from at.
func records(first uint64, n int, at time.Time) []ledger.StoredRecord {
	var out []ledger.StoredRecord
	for i := range n {
		q := first + uint64(i)
		out = append(out, ledger.StoredRecord{Device: "k-1", Seq: q, Venue: "v-1", Time: at.Add(time.Duration(i) * time.Minute),
			RawWall: at, Sealed: []byte{byte(q), byte(q >> 8)}, Hash: [32]byte{byte(q)}})
	}
	return out
}

// Ensure that a batch leaf with stored lines re-parses to the same bytes
// and lines, one line per KST day, and that non-canonical lines are
// refused.
func TestStored_RoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 20, 14, 58, 0, 0, time.UTC) // 23:58 KST: the batch crosses midnight
	recs := records(3, 5, at)
	recs = append(recs[:1], recs[2:]...) // seq 4 stored by another batch
	b := ledger.NewBatch("k-1", 3, 7, [32]byte{9}, [32]byte{8}, recs)
	text, err := b.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nstored 2026-11-20 3 ", "\nstored 2026-11-21 5-7 "} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("leaf lacks %q:\n%s", want, text)
		}
	}
	l, err := ledger.ParseLeaf(text)
	if err != nil {
		t.Fatal(err)
	}
	if *l.(*ledger.Batch) != b {
		t.Errorf("parsed %+v, want %+v", l, b)
	}
	for name, bad := range map[string]string{
		"range of one":    "stored 2026-11-20 3-3 ",
		"adjacent runs":   "stored 2026-11-21 5,6-7 ",
		"outside the seq": "stored 2026-11-20 2 ",
	} {
		var mut []byte
		switch name {
		case "adjacent runs":
			mut = bytes.Replace(text, []byte("stored 2026-11-21 5-7 "), []byte(bad), 1)
		default:
			mut = bytes.Replace(text, []byte("stored 2026-11-20 3 "), []byte(bad), 1)
		}
		if _, err := ledger.ParseLeaf(mut); err == nil {
			t.Errorf("%s: parsed\n%s", name, mut)
		}
	}
}

// Ensure that a line's locator names the one altered record at every
// position, and names none when two were altered.
func TestStored_Locate(t *testing.T) {
	at := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	for _, n := range []int{2, 3, 7, 8, 100} {
		lines, err := ledger.StoredLines(records(1, n, at))
		if err != nil || len(lines) != 1 {
			t.Fatal(lines, err)
		}
		s := lines[0]
		hashes := make([][32]byte, n)
		for i, r := range records(1, n, at) {
			hashes[i], _ = ledger.StoredHash(r)
		}
		for pos := range n {
			alt := append([][32]byte(nil), hashes...)
			alt[pos][0] ^= 1
			if ledger.StoredDigest(s.Day, alt) == s.Digest {
				t.Fatalf("n=%d: digest unchanged", n)
			}
			if got, ok := s.Locate(alt); !ok || got != pos {
				t.Errorf("n=%d: altered %d, located %d %v", n, pos, got, ok)
			}
		}
		alt := append([][32]byte(nil), hashes...)
		alt[0][0] ^= 1
		alt[n-1][0] ^= 1
		if got, ok := s.Locate(alt); ok {
			t.Errorf("n=%d: two altered, located %d", n, got)
		}
	}
}

// Ensure that a batch whose stored lines would pass MaxLeafSize gets a
// leaf without them.
func TestStored_TooLongFallsBack(t *testing.T) {
	var recs []ledger.StoredRecord
	for i, r := range records(1, 2000, time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)) {
		if i%2 == 0 { // every other record: 1000 runs
			recs = append(recs, r)
		}
	}
	b := ledger.NewBatch("k-1", 1, 2000, [32]byte{}, [32]byte{}, recs)
	if b.Stored != "" {
		t.Fatalf("stored lines of %d bytes kept", len(b.Stored))
	}
	if _, err := b.MarshalText(); err != nil {
		t.Fatal(err)
	}
}
