package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite the golden vectors testdata/*.json")

// testKey returns a fixed Ed25519 public key.
func testKey(b byte) ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
}

// testBundle returns a fixed province bundle.
func testBundle() *province.Bundle {
	pk := testKey(1)
	seal := [32]byte{0x5e, 0xa1}
	vk, err := note.NewEd25519VerifierKey("jeju", testKey(3))
	if err != nil {
		panic(err)
	}
	return &province.Bundle{
		Version:        province.BundleVersion,
		Province:       "jeju",
		PassPublicKeys: []pass.PublicKey{{ID: pass.KeyIDOf(pk), Key: pk}},
		SealingKeyID:   province.SealingKeyID(&seal),
		SealingKey:     seal,
		LedgerVerifier: vk,
		RootKey:        testKey(2),
	}
}

var (
	testTime    = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	testReceipt = &ledger.Receipt{Index: 41, Leaf: "anshim batch v1\nk-0123456789abcdef 1-3\n", Proof: []tlog.Hash{{1}, {2}},
		Checkpoint: "anshim.example/ledger\n42\nAAAA\n\n— anshim.example/ledger sig\n"}
	testEvidence = Evidence{Kind: KindFork, Device: "k-0123456789abcdef", Detected: testTime, Reason: "two roots of size 42",
		Old: "checkpoint A\n", New: "checkpoint B\n", Proof: []tlog.Hash{{3}}}
)

// goldens are the golden vectors of the protocol's JSON messages: each
// value's encoding is testdata/NAME.json, and decoding the file gives the
// value back.
var goldens = []struct {
	name  string
	value any
}{
	{"enroll-request", &EnrollRequest{Token: "3f9c0d2e7a1b4c5d6e7f8091a2b3c4d5", DeviceKey: "6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=",
		NKey: "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"}},
	{"enrollment", &Enrollment{Device: "k-0123456789abcdef", Venue: "v-cafe-1", Bundle: testBundle(),
		NATSURLs: []string{"tls://central.jeju.example:4222"}, Subject: CheckInSubject("v-cafe-1", "k-0123456789abcdef"),
		InboxPrefix: InboxPrefix("k-0123456789abcdef"), NATSCA: "anshim key update v1\n…\n"}},
	{"receipt-request", &ReceiptRequest{Device: "k-0123456789abcdef", Seq: 17}},
	{"consistency-request", &ConsistencyRequest{Old: 40, New: 42}},
	{"ledger-reply-receipt", &LedgerReply{Receipt: testReceipt}},
	{"ledger-reply-proof", &LedgerReply{Proof: &ledger.Proof{Old: 40, Size: 42, Proof: []tlog.Hash{{4}, {5}}}}},
	{"ledger-reply-retry", &LedgerReply{Error: "leaf not yet in a signed checkpoint", Retry: true}},
	{"ledger-reply-ok", &LedgerReply{OK: true}},
	{"evidence-fork", &testEvidence},
	{"evidence-receipt", &Evidence{Kind: KindReceipt, Device: "k-0123456789abcdef", Detected: testTime,
		Reason: "a batch this device did not send", Old: "checkpoint A\n", New: "checkpoint A\n", Receipt: testReceipt}},
	{"gossip", &Gossip{Checkpoint: "checkpoint B\n", Forks: []Evidence{testEvidence}}},
	{"venue-settings", &VenueSettings{Name: "Cafe Halla", Category: "cafe", DefaultStay: "45m", Debounce: "5m0s"}},
	{"venue-settings-default", &VenueSettings{Name: "Cafe Halla", Category: "cafe", DefaultStay: "45m"}},
	{"device-status", &DeviceStatus{V: StatusVersion, Sent: testTime, Clock: "ntp-synced", Backlog: 1234,
		OldestUnsynced: testTime.Add(-26 * time.Hour), LedgerAlert: true, Version: "0.9.0"}},
	{"device-status-idle", &DeviceStatus{V: StatusVersion, Sent: testTime, Clock: "unsynced", Version: "0.9.0"}},
}

// Ensure that ParseDeviceStatus reads what Marshal writes, ignores fields
// it does not know, and refuses another version, an unknown clock, a
// negative backlog and what is not JSON; Marshal refuses what Parse would.
func TestDeviceStatus_RoundTrip(t *testing.T) {
	good := DeviceStatus{V: StatusVersion, Sent: testTime, Clock: "rtc", Backlog: 3, OldestUnsynced: testTime.Add(-time.Hour), Version: "dev"}
	data, err := good.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseDeviceStatus(data); err != nil || got != good {
		t.Errorf("ParseDeviceStatus(%s) = %+v, %v", data, got, err)
	}
	if got, err := ParseDeviceStatus([]byte(`{"v":1,"sent":"2026-11-26T10:00:00Z","clock":"rtc","backlog":0,"version":"x","battery":80}`)); err != nil || got.Clock != "rtc" {
		t.Errorf("with an unknown field: %+v, %v", got, err)
	}
	for name, bad := range map[string]string{
		"empty":    ``,
		"not json": `not json`,
		"v2":       `{"v":2,"clock":"rtc","backlog":0}`,
		"clock":    `{"v":1,"clock":"gps","backlog":0}`,
		"backlog":  `{"v":1,"clock":"rtc","backlog":-1}`,
		"type":     `{"v":1,"clock":"rtc","backlog":"many"}`,
	} {
		if _, err := ParseDeviceStatus([]byte(bad)); err == nil {
			t.Errorf("%s: ParseDeviceStatus(%q) accepted", name, bad)
		}
	}
	if _, err := (DeviceStatus{V: StatusVersion, Clock: "sundial"}).Marshal(); err == nil {
		t.Error("Marshal of an unknown clock succeeded")
	}
}

// Ensure that each JSON message of the protocol encodes to its golden
// vector and decodes from it (unknown fields refused) to the same value.
func TestMessages_Golden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			path := filepath.Join("testdata", g.name+".json")
			got, err := json.MarshalIndent(g.value, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encoding differs from %s:\n got %s\nwant %s", path, got, want)
			}
			back := reflect.New(reflect.TypeOf(g.value).Elem()).Interface()
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			if err := dec.Decode(back); err != nil {
				t.Fatalf("decode %s: %v", path, err)
			}
			if !reflect.DeepEqual(back, g.value) {
				t.Errorf("decode %s = %+v, want %+v", path, back, g.value)
			}
		})
	}
}

// Ensure that ParseVenueSettings reads what Marshal writes, ignores
// fields it does not know and refuses what is not JSON.
func TestVenueSettings_RoundTrip(t *testing.T) {
	for _, v := range []VenueSettings{
		{Name: "Cafe Halla", Category: "cafe", DefaultStay: "45m", Debounce: "-1s"},
		{Name: "", Category: "other", DefaultStay: "60m"},
	} {
		data, err := v.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseVenueSettings(data)
		if err != nil || got != v {
			t.Errorf("ParseVenueSettings(%s) = %+v, %v; want %+v", data, got, err, v)
		}
	}
	got, err := ParseVenueSettings([]byte(`{"name":"x","debounce":"2m","status":"suspended"}`))
	if err != nil || got.Debounce != "2m" || got.Name != "x" {
		t.Errorf("with an unknown field: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "not json", `{"debounce":5}`, `[]`} {
		if _, err := ParseVenueSettings([]byte(bad)); err == nil {
			t.Errorf("ParseVenueSettings(%q) accepted", bad)
		}
	}
}
