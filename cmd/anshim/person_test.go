package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

// Ensure that "anshim person add", "pass" and "revoke" register a visitor,
// issue passes that verify against the province's bundle (cards with
// increasing serials, written as QR codes), and revoke a lost card; and
// that mistakes get an error naming the field and a hint.
func TestPerson(t *testing.T) {
	url, tokenFile := startCentral(t)
	bundle := filepath.Join(filepath.Dir(tokenFile), "province", province.BundleFile)
	dir := t.TempDir()
	e := testEnv(time.Now(), "") // the central signs with the real clock
	flags := []string{"--central", url, "--admin-token-file", tokenFile}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return e.anshim(t, append(args, flags...)...)
	}
	mustRun := func(args ...string) (string, string) {
		t.Helper()
		code, stdout, stderr := run(args...)
		if code != 0 {
			t.Fatalf("anshim %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return stdout, stderr
	}

	stdout, stderr := mustRun("person", "add", "--name", "홍길동", "--phone", "010-1234-5678")
	if !regexp.MustCompile(`^p-[0-9a-f]{16}\n$`).MatchString(stdout) {
		t.Fatalf("add: stdout %q, want the id alone", stdout)
	}
	id := strings.TrimSpace(stdout)
	if !strings.Contains(stderr, "anshim: registered person "+id) || strings.Contains(stderr, "1234") {
		t.Errorf("add: stderr %q", stderr)
	}

	for _, tt := range []struct {
		args        []string
		code        int
		error, hint string
	}{
		{[]string{"person", "add", "--name", "Kim", "--phone", "+82 10 1234 5678"}, 1,
			"anshim: error: central: phone: registered already, as person " + id + " (HTTP 409)",
			"anshim: hint: issue the visitor a pass with 'anshim person pass " + strings.Join(flags, " ") + " --id " + id + "'"},
		{[]string{"person", "add", "--name", "Kim", "--phone", "02-123-4567"}, 2,
			"anshim: error: --phone: not a mobile number", "anshim: hint: give a mobile number"},
		{[]string{"person", "add", "--name", "Kim", "--phone", "010-12-34"}, 2,
			"anshim: error: --phone: a 010 number has 11 digits", "anshim: hint: give a mobile number"},
		{[]string{"person", "add", "--name", "Kim\x01", "--phone", "010-2222-3333"}, 1,
			"anshim: error: central: invalid request: name: holds control characters (HTTP 400)", "anshim: hint: check --name and --phone"},
		{[]string{"person", "add", "--phone", "010-2222-3333"}, 2,
			"anshim: error: --name and --phone are required", "anshim: hint: run 'anshim person add --help'"},
		{[]string{"person", "pass"}, 2, "anshim: error: --id is required", "anshim: hint: "},
		{[]string{"person", "pass", "--id", id, "--kind", "paper"}, 2, `anshim: error: --kind "paper": want app or card`, "anshim: hint: "},
		{[]string{"person", "pass", "--id", id, "--png", filepath.Join(dir, "none", "x.png")}, 2, "anshim: error: --png", "anshim: hint: give a file in an existing directory"},
		{[]string{"person", "pass", "--id", "p-0000000000000000"}, 1, "(HTTP 404)", "anshim: hint: check --id"},
		{[]string{"person", "revoke", "--id", id}, 2, "anshim: error: --id and --serial are required", "anshim: hint: "},
		{[]string{"person", "revoke", "--id", id, "--serial", "9"}, 1, "card 9: not found (HTTP 404)", "anshim: hint: check --serial"},
		{[]string{"person", "revoke", "--id", "p-0000000000000000", "--serial", "1"}, 1, "not found (HTTP 404)", "anshim: hint: check --id"},
	} {
		code, _, stderr := run(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.error) || !strings.Contains(stderr, tt.hint) {
			t.Errorf("anshim %q: exit %d\n%s\nwant exit %d, %q and %q", tt.args, code, stderr, tt.code, tt.error, tt.hint)
		}
	}

	// An app pass, then two cards: the second revokes the first.
	app, stderr := mustRun("person", "pass", "--id", id)
	if !strings.Contains(stderr, "anshim: issued app pass to person "+id+", valid until ") {
		t.Errorf("pass: stderr %q", stderr)
	}
	out := e.mustRun(t, "pass", "verify", "--bundle", bundle, strings.TrimSpace(app))
	if !strings.Contains(out, "valid app pass") {
		t.Errorf("verify the app pass:\n%s", out)
	}
	png := filepath.Join(dir, "card.png")
	card1, stderr := mustRun("person", "pass", "--id", id, "--kind", "card", "--png", png)
	if !strings.Contains(stderr, "anshim: issued card pass serial 1 to person "+id) || !strings.Contains(stderr, "anshim: wrote QR code to "+png) {
		t.Errorf("card 1: stderr %q", stderr)
	}
	if text, ec, err := decodeQRFile(png); err != nil || text != strings.TrimSpace(card1) || ec != "M" {
		t.Errorf("card 1 PNG holds %q at level %q (%v), want the pass at M", text, ec, err)
	}
	card2, stderr := mustRun("person", "pass", "--id", id, "--kind", "card")
	if !strings.Contains(stderr, "serial 2") || !strings.Contains(stderr, "anshim: revoked the person's earlier card 1 at the kiosks") {
		t.Errorf("card 2: stderr %q", stderr)
	}
	out = e.mustRun(t, "pass", "verify", "--bundle", bundle, strings.TrimSpace(card2))
	if !strings.Contains(out, "valid card pass") || !strings.Contains(out, "serial:         2") {
		t.Errorf("verify card 2:\n%s", out)
	}
	var pseudonyms [][16]byte
	for _, text := range []string{app, card1, card2} {
		p, _, _, err := pass.Parse(strings.TrimSpace(text))
		if err != nil {
			t.Fatal(err)
		}
		pseudonyms = append(pseudonyms, p.Pseudonym)
	}
	if pseudonyms[0] != pseudonyms[1] || pseudonyms[1] != pseudonyms[2] {
		t.Error("the person's passes carry different pseudonyms")
	}

	// The lost card 2 is revoked, twice without harm.
	p2, _, _, _ := pass.Parse(strings.TrimSpace(card2))
	for range 2 {
		stdout, stderr = mustRun("person", "revoke", "--id", id, "--serial", "2")
		if stdout != "revoked card 2 of person "+id+"\n" || !strings.Contains(stderr, "(revocation id "+p2.RevocationID()+")") {
			t.Errorf("revoke: stdout %q stderr %q", stdout, stderr)
		}
	}
	card3, stderr := mustRun("person", "pass", "--id", id, "--kind", "card")
	if !strings.Contains(stderr, "serial 3") || strings.Contains(stderr, "revoked") || card3 == card2 {
		t.Errorf("card 3: stderr %q", stderr)
	}
}

// Ensure that the person commands have --help.
func TestPerson_Help(t *testing.T) {
	e := testEnv(testNow, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "person "},
		{[]string{"person", "--help"}, "revoke "},
		{[]string{"help", "person"}, "add "},
		{[]string{"person", "add", "--help"}, "Usage: anshim person add --central URL --admin-token-file FILE --name NAME --phone PHONE"},
		{[]string{"person", "pass", "--help"}, "Usage: anshim person pass --central URL"},
		{[]string{"person", "pass", "-h"}, "--png file"},
		{[]string{"person", "revoke", "--help"}, "Usage: anshim person revoke --central URL --admin-token-file FILE --id ID --serial N"},
	} {
		code, stdout, stderr := e.anshim(t, tc.args...)
		if code != 0 || !strings.Contains(stdout, tc.want) || stderr != "" {
			t.Errorf("anshim %v: exit %d, stdout lacks %q:\n%s%s", tc.args, code, tc.want, stdout, stderr)
		}
	}
}
