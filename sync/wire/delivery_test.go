package wire

import "testing"

func TestIsStreamDelivery(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  bool
	}{
		{"", false},
		{"_INBOX_k-1.abc.def", false},
		{"_INBOX.xyz", false},
		{"$JS.ACK.KV_anshim_revoked.c.1.2.3.4.5", true},
		{"$JS.FC.KV_anshim_revoked.x.y", true},
		{"JS.ACK", false},
	} {
		if got := IsStreamDelivery(tc.reply); got != tc.want {
			t.Errorf("IsStreamDelivery(%q) = %v, want %v", tc.reply, got, tc.want)
		}
	}
}
