package kiosk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/pass"
)

func scannerScan(text string, exit bool) scanner.Scan {
	return scanner.Scan{Text: text, Source: "test", Exit: exit, At: time.Now()}
}

// Ensure that a valid pass is committed, chained, sealed to the province and
// signalled green, and that nothing personal reaches the log.
func TestKiosk_Accept(t *testing.T) {
	e := newEnv(t)
	text, p := e.issue()
	out := e.scan(text)
	if out.Result != feedback.Accepted || out.Seq != 1 {
		t.Fatalf("outcome %+v, want accepted seq 1", out)
	}
	st := e.verify()
	if st.Records != 1 || st.FirstSeq != 1 || st.LastSeq != 1 {
		t.Fatalf("stats %+v", st)
	}
	recs, pers := e.records()
	if pers[0].Pseudonym != p.Pseudonym || recs[0].Kind != checkin.Entry || recs[0].Venue != "v-1234567891" || recs[0].Device != e.dev.ID {
		t.Fatalf("record %+v / %+v does not match the pass", recs[0], pers[0])
	}
	if bytes.Contains(recs[0].Sealed, p.Pseudonym[:]) {
		t.Fatal("pseudonym readable in the sealed part")
	}
	if got := e.ind.events; len(got) != 1 || got[0].Result != feedback.Accepted {
		t.Fatalf("feedback %+v", got)
	}
	log := e.logs.String()
	if !strings.Contains(log, `"msg":"scan","result":"accepted"`) || !strings.Contains(log, `"seq":1`) {
		t.Fatalf("log line missing: %s", log)
	}
	for _, secret := range []string{text, hex.EncodeToString(p.Pseudonym[:]), text[len(pass.Prefix):]} {
		if strings.Contains(log, secret) {
			t.Fatalf("log leaks personal data: %s", log)
		}
	}
}

// Ensure that every kind of bad pass is refused with its own reason and
// makes no record.
func TestKiosk_Reject(t *testing.T) {
	e := newEnv(t)
	good, _ := e.issue()
	expired, _ := e.issue(func(p *pass.Pass) {
		p.Expires = e.clock.Now().Wall.Add(-time.Minute)
		p.Issued = p.Expires.Add(-time.Hour)
	})
	revoked, rp := e.issue()
	if err := e.rev.Add(rp.RevocationID()); err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	wrongKey, err := pass.Signer{Private: otherPriv}.Issue(pass.Pass{Kind: pass.KindCard, Serial: 7,
		Issued: e.clock.Now().Wall.Add(-time.Hour), Expires: e.clock.Now().Wall.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	forged := []byte(good)
	i := len(pass.Prefix) + 10
	forged[i] = map[bool]byte{true: '1', false: '2'}[forged[i] != '1']
	tests := []struct{ name, text, reason string }{
		{"malformed", "HELLO WORLD", pass.ReasonMalformed},
		{"url", "https://example.com/", pass.ReasonMalformed},
		{"truncated", good[:len(good)-12], pass.ReasonTruncated},
		{"forged", string(forged), ""},
		{"expired", expired, pass.ReasonExpired},
		{"wrong key", wrongKey, pass.ReasonUnknownKey},
		{"revoked", revoked, pass.ReasonRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := e.scan(tt.text)
			if out.Result != feedback.Rejected || out.Seq != 0 {
				t.Fatalf("outcome %+v, want rejected", out)
			}
			if tt.reason != "" && out.Reason != tt.reason {
				t.Fatalf("reason %q, want %q", out.Reason, tt.reason)
			}
			if tt.reason == "" && out.Reason != pass.ReasonBadSignature && out.Reason != pass.ReasonMalformed {
				t.Fatalf("forged pass: reason %q", out.Reason)
			}
		})
	}
	if st := e.verify(); st.Records != 0 || st.NextSeq != 1 {
		t.Fatalf("rejected scans made records: %+v", st)
	}
}

// Ensure that the same pass within the debounce window is "already checked
// in" with no second record, also after a restart, and accepted again after
// the window.
func TestKiosk_Debounce(t *testing.T) {
	e := newEnv(t)
	text, _ := e.issue()
	if out := e.scan(text); out.Result != feedback.Accepted {
		t.Fatalf("first scan %+v", out)
	}
	e.clock.Advance(5 * time.Minute)
	if out := e.scan(text); out.Result != feedback.Duplicate || out.Reason != ReasonDuplicate {
		t.Fatalf("second scan %+v, want duplicate", out)
	}
	e.reopen()
	if out := e.scan(text); out.Result != feedback.Duplicate {
		t.Fatalf("scan after restart %+v, want duplicate", out)
	}
	// An exit scan of the same pass is not a duplicate of its entry.
	if out := e.kiosk.HandleScan(context.Background(), scannerScan(text, true)); out.Result != feedback.Accepted || out.Kind != checkin.Exit {
		t.Fatalf("exit scan %+v", out)
	}
	e.clock.Advance(6 * time.Minute)
	if out := e.scan(text); out.Result != feedback.Accepted || out.Seq != 3 {
		t.Fatalf("scan after the window %+v, want accepted seq 3", out)
	}
	if !strings.Contains(e.logs.String(), `"result":"duplicate"`) {
		t.Fatal("no duplicate log line")
	}
	e.verify()
}

// Ensure that a configured window applies and that a negative one disables
// debouncing.
func TestKiosk_Debounce_Configured(t *testing.T) {
	for _, tt := range []struct {
		window time.Duration
		after  time.Duration
		want   feedback.Result
	}{
		{time.Minute, 30 * time.Second, feedback.Duplicate},
		{time.Minute, 61 * time.Second, feedback.Accepted},
		{-1, 0, feedback.Accepted},
	} {
		t.Run(fmt.Sprint(tt.window, tt.after), func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Debounce = tt.window })
			text, _ := e.issue()
			e.scan(text)
			e.clock.Advance(tt.after)
			if out := e.scan(text); out.Result != tt.want {
				t.Fatalf("got %+v, want %v", out, tt.want)
			}
		})
	}
}

// Ensure that an exit kiosk makes exit records.
func TestKiosk_ExitMode(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.ExitMode = true })
	text, _ := e.issue()
	if out := e.scan(text); out.Result != feedback.Accepted || out.Kind != checkin.Exit {
		t.Fatalf("outcome %+v", out)
	}
	recs, _ := e.records()
	if recs[0].Kind != checkin.Exit {
		t.Fatal("record is not an exit")
	}
	if ev := e.ind.events[0]; !ev.Exit {
		t.Fatal("feedback does not say check-out")
	}
}

// Ensure that a kiosk booted in 1970 without NTP still accepts valid passes
// (dates checked against the pass itself) and records the raw clock and its
// quality.
func TestKiosk_UnsyncedClock(t *testing.T) {
	e := newEnv(t)
	text, _ := e.issue()
	forged, _ := e.issue(func(p *pass.Pass) { p.Serial = 9 })
	e.clock.reboot(time.Unix(30, 0), checkin.Unsynced)
	out := e.scan(text)
	if out.Result != feedback.Accepted {
		t.Fatalf("outcome %+v", out)
	}
	recs, _ := e.records()
	if recs[0].Quality != checkin.Unsynced || recs[0].Wall.Year() != 1970 {
		t.Fatalf("record time %v %v", recs[0].Wall, recs[0].Quality)
	}
	if out := e.scan(forged[:len(forged)-3] + "AAA"); out.Result != feedback.Rejected {
		t.Fatalf("bad signature accepted with an unsynced clock: %+v", out)
	}
}

// Ensure that scans arriving together share commits and still get
// consecutive, unique sequence numbers.
func TestKiosk_Concurrent(t *testing.T) {
	e := newEnv(t)
	const n = 64
	texts := make([]string, n)
	for i := range texts {
		texts[i], _ = e.issue()
	}
	seqs := make([]uint64, n)
	var wg sync.WaitGroup
	for i := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seqs[i] = e.scan(texts[i]).Seq
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, s := range seqs {
		if s < 1 || s > n || seen[s] {
			t.Fatalf("sequences %v not a permutation of 1..%d", seqs, n)
		}
		seen[s] = true
	}
	if st := e.verify(); st.Records != n {
		t.Fatalf("stats %+v", st)
	}
}
