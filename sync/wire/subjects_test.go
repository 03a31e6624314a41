package wire

import "testing"

// Ensure that ParseCheckInSubject accepts exactly
// anshim.checkins.<venue>.<device> and inverts CheckInSubject.
func TestParseCheckInSubject(t *testing.T) {
	tests := []struct {
		subject       string
		venue, device string
		ok            bool
	}{
		{"anshim.checkins.v-1.k-1", "v-1", "k-1", true},
		{CheckInSubject("v", "k"), "v", "k", true},
		{"anshim.checkins.v-1", "", "", false},
		{"anshim.checkins.v-1.k-1.x", "", "", false},
		{"anshim.checkins..k-1", "", "", false},
		{"anshim.checkins.v-1.", "", "", false},
		{"anshim.checkin.v-1.k-1", "", "", false},
		{"anshim.checkinsv-1.k-1", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		v, d, ok := ParseCheckInSubject(tt.subject)
		if v != tt.venue || d != tt.device || ok != tt.ok {
			t.Errorf("ParseCheckInSubject(%q) = %q, %q, %v; want %q, %q, %v", tt.subject, v, d, ok, tt.venue, tt.device, tt.ok)
		}
	}
}

// Ensure that each subject of one device parses back to the device, and
// that the parsers refuse the other subjects, extra tokens and wildcards.
func TestDeviceSubjects_RoundTrip(t *testing.T) {
	kinds := []struct {
		name   string
		format func(string) string
		parse  func(string) (string, bool)
	}{
		{"receipt", ReceiptSubject, ParseReceiptSubject},
		{"alert", AlertSubject, ParseAlertSubject},
		{"status", StatusSubject, ParseStatusSubject},
		{"inbox", InboxPrefix, ParseInboxPrefix},
	}
	golden := map[string]string{
		"receipt": "anshim.receipts.k-0123456789abcdef",
		"alert":   "anshim.alerts.k-0123456789abcdef",
		"status":  "anshim.status.k-0123456789abcdef",
		"inbox":   "_INBOX_k-0123456789abcdef",
	}
	const dev = "k-0123456789abcdef"
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			s := k.format(dev)
			if s != golden[k.name] {
				t.Errorf("format(%q) = %q, want %q", dev, s, golden[k.name])
			}
			if got, ok := k.parse(s); !ok || got != dev {
				t.Errorf("parse(%q) = %q, %v; want %q", s, got, ok, dev)
			}
			for _, bad := range []string{"", k.format(""), k.format(dev + ".x"), k.format("*"), k.format(">"),
				CheckInSubject("v-1", dev), SubjectReceiptRequest} {
				if bad == s {
					continue
				}
				if got, ok := k.parse(bad); ok {
					t.Errorf("parse(%q) = %q, true; want refused", bad, got)
				}
			}
		})
	}
	// Each parser refuses the other kinds' subjects.
	for _, a := range kinds {
		for _, b := range kinds {
			if a.name != b.name {
				if _, ok := a.parse(b.format(dev)); ok {
					t.Errorf("%s parser accepts the %s subject %q", a.name, b.name, b.format(dev))
				}
			}
		}
	}
}

// Ensure that the protocol's fixed names do not change: kiosks in the
// field and the central must agree on them.
func TestNames_Golden(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Stream, "ANSHIM_CHECKINS"},
		{CheckInsWildcard, "anshim.checkins.>"},
		{CheckInSubject("v-1", "k-1"), "anshim.checkins.v-1.k-1"},
		{SubjectReceiptRequest, "anshim.ledger.receipt"},
		{SubjectConsistencyRequest, "anshim.ledger.consistency"},
		{SubjectCheckpointRequest, "anshim.ledger.checkpoint"},
		{AlertsWildcard, "anshim.alerts.*"},
		{StatusWildcard, "anshim.status.*"},
		{BucketRevoked, "anshim_revoked"},
		{BucketPassKeys, "anshim_passkeys"},
		{BucketSealing, "anshim_sealing"},
		{BucketVenues, "anshim_venues"},
		{BucketWitness, "anshim_witness"},
		{SealingKeyCurrent, "current"},
		{RevokedValue, "1"},
		{EnrollPath, "/v1/enroll"},
		{NATSCAName, "nats"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if got := DownSyncBuckets(); len(got) != 4 || got[0] != BucketRevoked || got[3] != BucketVenues {
		t.Errorf("DownSyncBuckets() = %v", got)
	}
}

// Ensure that ValidSubject accepts literal subjects only.
func TestValidSubject(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"anshim.checkins.v-1.k-1", true},
		{"_INBOX_k-1", true},
		{"", false},
		{"a..b", false},
		{".a", false},
		{"a.", false},
		{"a.*", false},
		{"a.>", false},
		{"a b", false},
		{"a.b\n", false},
	} {
		if got := ValidSubject(tc.s); got != tc.want {
			t.Errorf("ValidSubject(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
