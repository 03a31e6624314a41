package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpus under testdata/fuzz")

var fuzzKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// fuzzRecords returns the canonical records first..last of device, with
// fixed contents so that the seeds are reproducible.
func fuzzRecords(t testing.TB, device string, first, last uint64) [][]byte {
	var out [][]byte
	for seq := first; seq <= last; seq++ {
		r := checkin.Record{
			Device:  device,
			Seq:     seq,
			Venue:   "v-1",
			Wall:    time.Date(2026, 11, 26, 10, 0, int(seq), 0, time.UTC),
			Quality: checkin.Unsynced,
			Boot:    [16]byte{0xb0, 0x07},
			Mono:    time.Duration(seq) * time.Minute,
			Kind:    checkin.Kind(1 + seq%2),
			Sealed:  bytes.Repeat([]byte{byte(seq)}, checkin.SealedLen),
		}
		raw, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// fuzzBatch returns a valid, signed batch of records first..last.
func fuzzBatch(t testing.TB, first, last uint64) *Batch {
	b := &Batch{
		Device:  "k-1",
		Venue:   "v-1",
		Prev:    sha256.Sum256([]byte("prev")),
		Sent:    Stamp{Wall: time.Unix(7200, 0).UTC(), Quality: checkin.Unsynced, Boot: [16]byte{0xb0, 0x07}, Mono: 2 * time.Hour},
		Records: fuzzRecords(t, "k-1", first, last),
	}
	h := b.Prev
	for _, r := range b.Records {
		h = checkin.Next(h, r)
	}
	b.Head = checkin.SignHead(fuzzKey, b.Device, last, h)
	return b
}

func mustEncode(t testing.TB, b *Batch) []byte {
	data, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeSeeds returns the FuzzDecode seed corpus: valid batches and one of
// each kind of malformed batch, by file name.
func decodeSeeds(t testing.TB) map[string][]byte {
	one := mustEncode(t, fuzzBatch(t, 1, 1))
	three := mustEncode(t, fuzzBatch(t, 40, 42))
	// count is the u16 after the fixed header of a batch of k-1 at v-1.
	countAt := len(magic) + 1 + 3 + 1 + 3 + 32 + 8 + 32 + 64 + 8 + 1 + 16 + 8
	withCount := func(data []byte, n uint16) []byte {
		d := bytes.Clone(data)
		binary.BigEndian.PutUint16(d[countAt:], n)
		return d
	}
	otherDevice := fuzzBatch(t, 1, 2)
	otherDevice.Records[1] = fuzzRecords(t, "k-2", 2, 2)[0]
	gap := fuzzBatch(t, 1, 2)
	gap.Records[1] = fuzzRecords(t, "k-1", 3, 3)[0]
	headLow := bytes.Clone(three)
	binary.BigEndian.PutUint64(headLow[len(magic)+1+3+1+3+32:], 2)
	badRecord := bytes.Clone(three)
	badRecord[countAt+2+2] = 9 // the first record's version
	return map[string][]byte{
		"valid-one":            one,
		"valid-three":          three,
		"empty":                {},
		"magic-only":           []byte(magic),
		"version-2":            append([]byte("ANB2"), three[4:]...),
		"truncated-header":     three[:countAt],
		"truncated-record":     three[:len(three)-1],
		"trailing":             append(bytes.Clone(one), 0),
		"zero-records":         withCount(one, 0)[:countAt+2],
		"count-too-high":       withCount(one, 2),
		"count-over-max":       withCount(one, MaxRecords+1),
		"record-other-device":  mustEncode(t, otherDevice),
		"records-not-in-order": mustEncode(t, gap),
		"head-below-count":     headLow,
		"bad-record":           badRecord,
	}
}

// corpusFile returns a seed in the go test fuzz v1 format.
func corpusFile(b []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
}

// Ensure that the checked-in seed corpus matches the seeds that the code
// makes; run with -update-corpus to rewrite it.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for name, seed := range decodeSeeds(t) {
		path := filepath.Join(dir, name)
		want := corpusFile(seed)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is out of date (%v): run go test -run TestFuzzCorpus -update-corpus", path, err)
		}
	}
}

// Ensure that the seeds decode as their names say.
func TestDecode_Seeds(t *testing.T) {
	for name, seed := range decodeSeeds(t) {
		_, _, err := Decode(seed)
		if valid := name[:min(len(name), 6)] == "valid-"; valid != (err == nil) {
			t.Errorf("Decode(%s): %v", name, err)
		}
	}
	b, _, err := Decode(decodeSeeds(t)["valid-three"])
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(fuzzKey.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("Verify of a valid seed: %v", err)
	}
}

// FuzzDecode checks that Decode never panics, fails only with
// ErrMalformed, and accepts only batches that re-encode to the same bytes,
// whose records are consecutive records of the batch's device ending at
// the head.
func FuzzDecode(f *testing.F) {
	for _, seed := range decodeSeeds(f) {
		f.Add(seed)
	}
	pub := fuzzKey.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, recs, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode error does not wrap ErrMalformed: %v", err)
			}
			if b != nil || recs != nil {
				t.Fatal("Decode returned a batch with its error")
			}
			return
		}
		again, err := b.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded batch: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoding gives %x, want %x", again, data)
		}
		if b.Size() != len(data) {
			t.Fatalf("Size() = %d, encoded %d bytes", b.Size(), len(data))
		}
		if len(recs) != len(b.Records) || len(recs) == 0 || b.FirstSeq() < 1 {
			t.Fatalf("%d records, %d raw, first seq %d", len(recs), len(b.Records), b.FirstSeq())
		}
		for i, r := range recs {
			raw, err := r.MarshalBinary()
			if err != nil || !bytes.Equal(raw, b.Records[i]) {
				t.Fatalf("record %d re-encodes to %x (%v), want %x", i, raw, err, b.Records[i])
			}
			if r.Device != b.Device || r.Seq != b.FirstSeq()+uint64(i) {
				t.Fatalf("record %d is %s/%d in batch %s", i, r.Device, r.Seq, b.MsgID())
			}
		}
		_ = b.Verify(pub) // must not panic
	})
}
