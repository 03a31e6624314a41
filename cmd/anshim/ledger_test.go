package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
)

// Ensure that "anshim ledger verify" audits a central's log, saves its
// checkpoint, checks the next audit against it, and reports a log that
// no longer holds the saved tree; and that "ledger prove" reports a
// record without a receipt.
func TestLedgerVerify(t *testing.T) {
	url, _, keys := startCentralKeys(t)
	deadline := time.Now().Add(10 * time.Second)
	for { // the central signs its first checkpoint as it starts
		resp, err := http.Get(url + "/v1/ledger/checkpoint")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e := testEnv(testNow, "")
	state := filepath.Join(t.TempDir(), "audit.checkpoint")
	vkey := keys.LedgerVerifierKey()
	out := e.mustRun(t, "ledger", "verify", "--central", url, "--key", vkey, "--state", state)
	if !strings.Contains(out, "verified: 0 leaves") || !strings.Contains(out, "saved the checkpoint") {
		t.Fatalf("first audit:\n%s", out)
	}
	out = e.mustRun(t, "ledger", "verify", "--central", url, "--key", vkey, "--state", state)
	if !strings.Contains(out, "consistent with the saved checkpoint of 0 leaves") {
		t.Fatalf("second audit:\n%s", out)
	}

	// A saved checkpoint, signed with the real key, of a longer tree
	// than the central now shows: the log was cut.
	signer, err := keys.LedgerSigner()
	if err != nil {
		t.Fatal(err)
	}
	forged, err := ledger.Sign(ledger.Checkpoint{Size: 5, Hash: tlog.Hash{1}}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := e.anshim(t, "ledger", "verify", "--central", url, "--key", vkey, "--state", state)
	if code != 1 || !strings.Contains(stderr, "anshim: error: LOG REWRITTEN") || !strings.Contains(stderr, "anshim: hint:") {
		t.Fatalf("audit of a cut log: exit %d\n%s", code, stderr)
	}

	// Another key: refused.
	_, other, _ := note.GenerateKey(nil, signer.Name())
	code, _, stderr = e.anshim(t, "ledger", "verify", "--central", url, "--key", other)
	if code != 1 || !strings.Contains(stderr, "not signed by the ledger key") {
		t.Fatalf("audit with another key: exit %d\n%s", code, stderr)
	}

	code, _, stderr = e.anshim(t, "ledger", "prove", "--central", url, "--key", vkey, "--device", "k-none", "--seq", "1")
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Fatalf("prove of an unknown record: exit %d\n%s", code, stderr)
	}
	if code, _, _ := e.anshim(t, "ledger", "verify", "--central", url); code != 2 {
		t.Fatalf("verify without a key: exit %d, want 2", code)
	}
}
