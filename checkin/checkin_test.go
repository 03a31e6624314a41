package checkin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/box"
)

func sampleRecord() Record {
	return Record{
		Device:  "k-0123456789abcdef",
		Seq:     42,
		Venue:   "v-1234567891",
		Wall:    time.Date(2026, 11, 26, 3, 4, 5, 6, time.UTC),
		Quality: NTPSynced,
		Boot:    [16]byte{1, 2, 3},
		Mono:    90 * time.Second,
		Kind:    Entry,
		Sealed:  bytes.Repeat([]byte{7}, SealedLen),
	}
}

// Ensure that a record survives an encode/decode round trip unchanged.
func TestRecord_RoundTrip(t *testing.T) {
	r := sampleRecord()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := got.MarshalBinary()
	if !bytes.Equal(b, b2) || got.Seq != r.Seq || !got.Wall.Equal(r.Wall) || got.Device != r.Device || got.Mono != r.Mono {
		t.Fatalf("round trip changed the record: %+v", got)
	}
}

// Ensure that invalid records are refused on encode and on decode.
func TestRecord_Invalid(t *testing.T) {
	good, _ := func() ([]byte, error) { r := sampleRecord(); return r.MarshalBinary() }()
	tests := []struct {
		name string
		mut  func(*Record)
		raw  []byte
	}{
		{name: "no device", mut: func(r *Record) { r.Device = "" }},
		{name: "long venue", mut: func(r *Record) { r.Venue = string(make([]byte, 65)) }},
		{name: "seq 0", mut: func(r *Record) { r.Seq = 0 }},
		{name: "bad kind", mut: func(r *Record) { r.Kind = 3 }},
		{name: "bad quality", mut: func(r *Record) { r.Quality = 0 }},
		{name: "no sealed", mut: func(r *Record) { r.Sealed = nil }},
		{name: "truncated", raw: good[:len(good)-1]},
		{name: "trailing", raw: append(append([]byte(nil), good...), 0)},
		{name: "version 2", raw: append([]byte{2}, good[1:]...)},
		{name: "empty", raw: []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.mut != nil {
				r := sampleRecord()
				tt.mut(&r)
				_, err = r.MarshalBinary()
			} else {
				_, err = Decode(tt.raw)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}

// Ensure that the Sealer's precomputed boxes open with nacl's OpenAnonymous.
func TestSealer_OpensWithOpenAnonymous(t *testing.T) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, ahead := range []int{0, 4} {
		s := NewSealer(pub, ahead, nil)
		seen := map[string]bool{}
		for i := range 10 {
			p := Personal{Pseudonym: [16]byte{byte(i)}, PassKind: 2, Serial: uint32(i)}
			sealed, err := s.Seal(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != SealedLen {
				t.Fatalf("sealed length %d, want %d", len(sealed), SealedLen)
			}
			if seen[string(sealed[:32])] {
				t.Fatal("ephemeral key reused")
			}
			seen[string(sealed[:32])] = true
			got, err := Open(sealed, pub, priv)
			if err != nil || got != p {
				t.Fatalf("Open = %+v, %v; want %+v", got, err, p)
			}
			sealed[40] ^= 1
			if _, err := Open(sealed, pub, priv); !errors.Is(err, ErrOpen) {
				t.Fatalf("tampered box opened: %v", err)
			}
		}
		s.Close()
	}
}

// Ensure that the chain head signature binds device, seq and hash.
func TestHead_Verify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	h := Next(Genesis("dev"), []byte("record"))
	head := SignHead(priv, "dev", 1, h)
	if err := head.Verify(pub, "dev"); err != nil {
		t.Fatal(err)
	}
	b, _ := head.MarshalBinary()
	var back Head
	if err := back.UnmarshalBinary(b); err != nil || back.Verify(pub, "dev") != nil {
		t.Fatalf("head round trip: %v", err)
	}
	for name, bad := range map[string]Head{
		"other seq":  {Seq: 2, Hash: h, Sig: head.Sig},
		"other hash": {Seq: 1, Hash: Genesis("dev"), Sig: head.Sig},
	} {
		if err := bad.Verify(pub, "dev"); !errors.Is(err, ErrBadHead) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if err := head.Verify(pub, "dev2"); !errors.Is(err, ErrBadHead) {
		t.Errorf("other device verified")
	}
	if Genesis("a") == Genesis("b") {
		t.Error("genesis does not depend on the device")
	}
}

func FuzzDecode(f *testing.F) {
	r := sampleRecord()
	good, _ := r.MarshalBinary()
	f.Add(good)
	f.Add(good[:20])
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := rec.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("decoded record does not re-encode to its input: %v", err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	pub, _, _ := box.GenerateKey(rand.Reader)
	b.Run("SealAnonymous", func(b *testing.B) {
		for b.Loop() {
			box.SealAnonymous(nil, make([]byte, personalLen), pub, rand.Reader)
		}
	})
	b.Run("Sealer-precomputed", func(b *testing.B) {
		s := NewSealer(pub, b.N+1, nil)
		defer s.Close()
		for len(s.ready) < cap(s.ready) && len(s.ready) < 100000 {
			time.Sleep(time.Millisecond)
		}
		b.ResetTimer()
		for b.Loop() {
			s.Seal(Personal{})
		}
	})
}
