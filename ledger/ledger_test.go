package ledger_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
)

var leafVectors = []struct {
	leaf ledger.Leaf
	text string
}{
	{&ledger.Batch{Device: "k-0001", First: 1, Last: 10, Head: [32]byte{1}, Sealed: [32]byte{2}},
		"anshim-ledger-leaf/v1 batch\ndevice k-0001\nseq 1 10\nhead AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nsealed AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"},
	{&ledger.Event{ID: 7, Time: time.Date(2026, 11, 26, 15, 0, 0, 123456000, time.UTC), Kind: "day-destroyed", Detail: `{"day":"2026-10-29","check_ins_dropped":3,"key":"destroyed"}`},
		"anshim-ledger-leaf/v1 event\nid 7\ntime 2026-11-26T15:00:00.123456Z\nkind day-destroyed\ndetail {\"day\":\"2026-10-29\",\"check_ins_dropped\":3,\"key\":\"destroyed\"}\n"},
	{&ledger.Event{ID: 8, Time: time.Date(2026, 11, 26, 15, 0, 1, 0, time.UTC), Kind: "identity-revealed", Detail: `{"who":"inv-3","case_ref":"JJ-2026-0042","trace":"t-9","count":4}`},
		"anshim-ledger-leaf/v1 event\nid 8\ntime 2026-11-26T15:00:01Z\nkind identity-revealed\ndetail {\"who\":\"inv-3\",\"case_ref\":\"JJ-2026-0042\",\"trace\":\"t-9\",\"count\":4}\n"},
}

// Ensure that leaves encode to their test vectors and parse back.
func TestLeaf_Vectors(t *testing.T) {
	for _, v := range leafVectors {
		t.Run(strings.SplitN(v.text, "\n", 2)[0][len("anshim-ledger-leaf/v1 "):], func(t *testing.T) {
			got, err := v.leaf.MarshalText()
			if err != nil || string(got) != v.text {
				t.Fatalf("MarshalText = %q, %v; want %q", got, err, v.text)
			}
			l, err := ledger.ParseLeaf([]byte(v.text))
			if err != nil {
				t.Fatal(err)
			}
			again, _ := l.MarshalText()
			if string(again) != v.text {
				t.Fatalf("parsed and marshaled: %q", again)
			}
		})
	}
}

// Ensure that non-canonical or malformed leaves are refused.
func TestParseLeaf_Malformed(t *testing.T) {
	good := leafVectors[0].text
	for _, bad := range []string{
		"", strings.TrimSuffix(good, "\n"), strings.Replace(good, "v1", "v2", 1),
		strings.Replace(good, "seq 1 10", "seq 01 10", 1), strings.Replace(good, "seq 1 10", "seq 10 1", 1),
		strings.Replace(good, "device k-0001", "device k 0001", 1), good + "extra\n",
		strings.Replace(good, "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AQ==", 1),
		strings.Replace(leafVectors[1].text, "id 7", "id +7", 1),
		strings.Replace(leafVectors[1].text, "15:00:00.123456Z", "15:00:00.1234560Z", 1),
	} {
		if _, err := ledger.ParseLeaf([]byte(bad)); !errors.Is(err, ledger.ErrMalformed) {
			t.Errorf("ParseLeaf(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzParseLeaf(f *testing.F) {
	for _, v := range leafVectors {
		f.Add([]byte(v.text))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ledger.ParseLeaf(data)
		if err != nil {
			return
		}
		again, err := l.MarshalText()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("parsed %q, marshaled %q, %v", data, again, err)
		}
	})
}

// Ensure that a checkpoint has the C2SP form, signs and opens, and that
// a checkpoint of another key or origin does not open.
func TestCheckpoint_SignOpen(t *testing.T) {
	signer, verifier := newKey(t, "jeju.anshim.kr/ledger")
	c := ledger.Checkpoint{Size: 5, Hash: tlog.Hash{0xff}}
	msg, err := ledger.Sign(c, signer)
	if err != nil {
		t.Fatal(err)
	}
	want := "jeju.anshim.kr/ledger\n5\n/wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— jeju.anshim.kr/ledger "
	if !strings.HasPrefix(string(msg), want) {
		t.Fatalf("signed checkpoint %q, want prefix %q", msg, want)
	}
	got, err := ledger.Open(msg, verifier)
	if err != nil || got.Size != 5 || got.Hash != c.Hash || got.Origin != "jeju.anshim.kr/ledger" {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	_, other := newKey(t, "jeju.anshim.kr/ledger")
	if _, err := ledger.Open(msg, other); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("Open with another key: %v", err)
	}
	for _, bad := range []string{"o\n5\nAA==\n", "o\n05\n/wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "o\n5\n/wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n"} {
		if _, err := ledger.ParseCheckpoint([]byte(bad)); !errors.Is(err, ledger.ErrMalformed) {
			t.Errorf("ParseCheckpoint(%q) = %v", bad, err)
		}
	}
}

func newKey(t testing.TB, name string) (note.Signer, note.Verifier) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// Ensure that a receipt of a leaf of an in-memory tree verifies offline
// against the signed checkpoint, and that one of another index, an edited
// leaf or another key does not.
func TestReceipt_Verify(t *testing.T) {
	signer, v := newKey(t, "test.anshim/ledger")
	var tr ledger.Tree
	var leaves [][]byte
	for i := range 6 {
		leaf, err := (&ledger.Batch{Device: "k-1", First: uint64(2*i + 1), Last: uint64(2*i + 2), Head: [32]byte{byte(i)}, Sealed: [32]byte{1}}).MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
		if err := tr.Append(leaf); err != nil {
			t.Fatal(err)
		}
	}
	root, err := tr.Root(tr.Size())
	if err != nil {
		t.Fatal(err)
	}
	note, err := ledger.Sign(ledger.Checkpoint{Size: tr.Size(), Hash: root}, signer)
	if err != nil {
		t.Fatal(err)
	}
	const idx = 3
	p, err := tlog.ProveRecord(tr.Size(), idx, &tr)
	if err != nil {
		t.Fatal(err)
	}
	r := ledger.Receipt{Index: idx, Leaf: string(leaves[idx]), Proof: p, Checkpoint: string(note)}
	c, leaf, err := r.Verify(v)
	if err != nil || c.Size != 6 {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if b := leaf.(*ledger.Batch); b.First != 7 || b.Last != 8 {
		t.Fatalf("receipt leaf %+v", b)
	}
	for name, bad := range map[string]ledger.Receipt{
		"another index": {Index: 2, Leaf: r.Leaf, Proof: r.Proof, Checkpoint: r.Checkpoint},
		"edited leaf":   {Index: idx, Leaf: strings.Replace(r.Leaf, "seq 7 8", "seq 7 9", 1), Proof: r.Proof, Checkpoint: r.Checkpoint},
		"no proof":      {Index: idx, Leaf: r.Leaf, Checkpoint: r.Checkpoint},
	} {
		if _, _, err := bad.Verify(v); err == nil {
			t.Errorf("receipt with %s verified", name)
		}
	}
	_, other := newKey(t, "test.anshim/ledger")
	if _, _, err := r.Verify(other); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("receipt with another key: %v, want ErrBadSignature", err)
	}
}

func ExampleReceipt_Verify() {
	// A kiosk keeps the receipt of each batch (GET /v1/ledger/receipt)
	// and checks it offline with the ledger verifier of its bundle.
	var r ledger.Receipt // from the central
	var v note.Verifier  // province.Bundle.NoteVerifier()
	if v == nil {
		fmt.Println("no verifier")
		return
	}
	if _, _, err := r.Verify(v); err != nil {
		fmt.Println("receipt rejected:", err)
	}
	// Output: no verifier
}
