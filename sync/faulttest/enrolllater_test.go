package faulttest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/kiosk"
)

// Scenario: a kiosk initialised offline (`kiosk init`) records check-ins
// for days, then is enrolled on the same data directory (`kiosk enroll`).
// A token of another venue is refused before anything is installed; the
// right one keeps the device key and the outbox, and every buffered
// check-in arrives at the central exactly once (finish checks each record
// against what the kiosk answered).
func TestEnrollAfterOfflineInit(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOptions{})
	c.addVenue("venue-1")
	c.addVenue("venue-2")

	data := filepath.Join(c.dir, "kiosk1")
	if _, err := runCmd(t, bins.kiosk, "init", "--data", data, "--bundle", filepath.Join(c.keysDir, "public.json"), "--venue", "venue-1"); err != nil {
		t.Fatal(err)
	}
	dev, err := kiosk.LoadDevice(data)
	if err != nil {
		t.Fatal(err)
	}
	keyBefore, err := os.ReadFile(filepath.Join(data, kiosk.FileDeviceKey))
	if err != nil {
		t.Fatal(err)
	}
	k := &kioskNode{t: t, c: c, name: "kiosk1", data: data, device: dev.ID, venue: dev.Venue, log: newLineLog(t, "kiosk1")}
	ks := []*kioskNode{k}

	// Offline: the kiosk records and keeps everything.
	l, ps := newLedger(), passes{c.keys.Signer()}
	const n = 40
	mark := k.start(nil)
	// The daemon says so as it starts its sync, just after "kiosk started".
	if _, ok := k.log.wait(mark, 10*time.Second, k.p.done, contains(`offline`)); !ok {
		t.Errorf("the kiosk initialised offline does not say it runs offline:\n%s", strings.Join(k.log.grep(mark, contains("")), "\n"))
	}
	for range n {
		s, err := ps.issue()
		if err != nil {
			t.Fatal(err)
		}
		a, err := k.scan(s.text)
		if err := l.answer(k, s, a, err); err != nil {
			t.Fatal(err)
		}
	}
	k.stop()
	if st, err := k.outboxStats(); err != nil || st.Records != n {
		t.Fatalf("outbox before enrolling: %+v, %v; want %d records", st, err, n)
	}

	sum, err := c.keys.Bundle().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	enroll := func(venue string) ([]byte, error) {
		var tok struct{ Token string }
		if err := c.central.api("POST", "/v1/venues/"+venue+"/tokens", nil, &tok); err != nil {
			t.Fatal(err)
		}
		return runCmd(t, bins.kiosk, "enroll", "--token", tok.Token, "--central", c.central.http, "--data", data, "--bundle-sha256", sum)
	}

	// A token of another venue: refused, with what to do; nothing installed.
	_, err = enroll("venue-2")
	if err == nil {
		t.Fatal("a token of venue-2 enrolled a kiosk initialised for venue-1")
	}
	for _, want := range []string{"the token is not for venue venue-1", "venue mismatch", "kiosk: hint: nothing was installed and the buffered check-ins stay: ask the province's operator for a token of venue venue-1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("wrong venue: the error lacks %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, kiosk.FileNATS)); err == nil {
		t.Error("nats.json installed by a refused enrollment")
	}
	if ds, err := c.central.devices(); err != nil || ds[dev.ID].ID != "" {
		t.Errorf("the central registered the device of a refused enrollment: %+v, %v", ds[dev.ID], err)
	}

	// The right venue: the same device, the same key, the same outbox.
	out, err := enroll("venue-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "device "+dev.ID+" enrolled for venue venue-1") || !strings.Contains(string(out), "kept the device key and the outbox") {
		t.Errorf("kiosk enroll said:\n%s", out)
	}
	if keyAfter, err := os.ReadFile(filepath.Join(data, kiosk.FileDeviceKey)); err != nil || !bytes.Equal(keyAfter, keyBefore) {
		t.Fatalf("the device key changed at enrollment (%v)", err)
	}
	if st, err := k.outboxStats(); err != nil || st.Records != n || !st.ChainOK {
		t.Fatalf("outbox after enrolling: %+v, %v; want the %d records", st, err, n)
	}
	// Enrolled twice: refused before the token is used.
	if _, err := enroll("venue-1"); err == nil || !strings.Contains(err.Error(), "the kiosk is enrolled already") {
		t.Errorf("a second enrollment: %v", err)
	}

	// Online: the buffered records sync, and new scans too.
	start := time.Now()
	k.start(nil)
	for range 5 {
		s, err := ps.issue()
		if err != nil {
			t.Fatal(err)
		}
		a, err := k.scan(s.text)
		if err := l.answer(k, s, a, err); err != nil {
			t.Fatal(err)
		}
	}
	c.finish(ks, l, finishOptions{}).onlyReasons(t, ks)
	t.Logf("%d check-ins recorded offline and 5 online arrived once each, %v after the enrolled kiosk started", n, time.Since(start).Round(100*time.Millisecond))
}
