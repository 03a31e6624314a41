package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/ledger"
)

// whoVector is an event leaf naming the account that acted.
var whoVector = struct {
	leaf *ledger.Event
	text string
}{
	&ledger.Event{ID: 9, Time: time.Date(2026, 11, 26, 15, 0, 2, 0, time.UTC), Kind: "trace", Who: "kim.jiwoo",
		Detail: `{"trace":"t-9","case_ref_sha256":"aa","contacts":4}`},
	"anshim-ledger-leaf/v1 event\nid 9\ntime 2026-11-26T15:00:02Z\nkind trace\nwho kim.jiwoo\ndetail {\"trace\":\"t-9\",\"case_ref_sha256\":\"aa\",\"contacts\":4}\n",
}

// Ensure that an event leaf with an account encodes to its vector and
// parses back with the account (central/ledgerstore's TestEventLeaf: the
// leaf of a stored audit event).
func TestLeaf_Who(t *testing.T) {
	got, err := whoVector.leaf.MarshalText()
	if err != nil || string(got) != whoVector.text {
		t.Fatalf("MarshalText = %q, %v; want %q", got, err, whoVector.text)
	}
	l, err := ledger.ParseLeaf([]byte(whoVector.text))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.(*ledger.Event); !ok || e.Who != "kim.jiwoo" || e.Detail != whoVector.leaf.Detail {
		t.Fatalf("ParseLeaf = %+v", l)
	}
}

// Ensure that a who line that is empty, holds a space, or is out of place
// is refused, and that a bad account name cannot be marshaled.
func TestLeaf_WhoMalformed(t *testing.T) {
	good := whoVector.text
	for _, bad := range []string{
		strings.Replace(good, "who kim.jiwoo", "who ", 1),
		strings.Replace(good, "who kim.jiwoo", "who kim jiwoo", 1),
		strings.Replace(good, "kind trace\nwho kim.jiwoo", "who kim.jiwoo\nkind trace", 1),
		strings.Replace(good, "who kim.jiwoo", "whom kim.jiwoo", 1),
	} {
		if _, err := ledger.ParseLeaf([]byte(bad)); !errors.Is(err, ledger.ErrMalformed) {
			t.Errorf("ParseLeaf(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	for _, who := range []string{"kim jiwoo", "kim\njiwoo", strings.Repeat("a", 256)} {
		e := *whoVector.leaf
		e.Who = who
		if _, err := e.MarshalText(); err == nil {
			t.Errorf("MarshalText with Who %q: no error", who)
		}
	}
}
