package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeTraceCentral answers POST /v1/traces with a canned trace holding a
// contact whose name is a formula, and records the request.
func fakeTraceCentral(t *testing.T) (url, tokenFile string, got *map[string]any) {
	t.Helper()
	got = new(map[string]any)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v1/traces" || r.Header.Get("Authorization") != "Bearer inv-token" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"missing or wrong admin token"}`)
			return
		}
		data, _ := io.ReadAll(r.Body)
		json.Unmarshal(data, got)
		name := ""
		if (*got)["reveal"] == true {
			name = `"name":"=HYPERLINK(\"http://evil\")","phone":"+821033334444",`
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"t-01","case_ref":"JJ-1","revealed":1,"from":"2026-11-09T15:00:00Z","to":"2026-11-12T15:00:00Z",
			"until":"2026-11-12T15:00:00Z","degree":2,"case":[],"stats":{},
			"contacts":[{"ref":"C1","degree":1,"venue":"v-cafe","exposed":"2026-11-11T01:00:00Z","overlap_minutes":25,`+name+`
			"stay":{"venue":"v-cafe","start":"2026-11-11T01:00:00Z","end":"2026-11-11T01:45:00Z","exit":false},
			"source":{"venue":"v-cafe","start":"2026-11-11T00:50:00Z","end":"2026-11-11T01:50:00Z","exit":true},
			"via":"case","path":[{"ref":"case","exposed":"2026-11-09T15:00:00Z"},{"ref":"C1","venue":"v-cafe","exposed":"2026-11-11T01:00:00Z"}],
			"flagged":true}]}`)
	}))
	t.Cleanup(srv.Close)
	tokenFile = filepath.Join(t.TempDir(), "investigator.token")
	if err := os.WriteFile(tokenFile, []byte("inv-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, tokenFile, got
}

// Ensure that "anshim trace" sends the case, prints the contacts as a
// table, JSON or CSV with formulas neutralised, asks for identities only
// with --reveal, a reason and a case reference, and refuses mistakes with
// exit code 2 and a hint.
func TestTrace(t *testing.T) {
	url, tokenFile, got := fakeTraceCentral(t)
	e := testEnv(time.Now(), "")
	base := []string{"trace", "--central", url, "--token-file", tokenFile, "--phone", "010-1111-2222", "--onset", "2026-11-12", "--case-ref", "JJ-1"}

	code, stdout, stderr := e.anshim(t, base...)
	if code != 0 || !strings.Contains(stdout, "C1 !") || !strings.Contains(stdout, "case>C1") || !strings.Contains(stderr, "1 contacts") {
		t.Fatalf("table: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if (*got)["phone"] != "010-1111-2222" || (*got)["onset"] != "2026-11-12" || (*got)["degree"] != 2.0 || (*got)["reveal"] != nil || (*got)["case_ref"] != "JJ-1" {
		t.Errorf("request = %v", *got)
	}

	code, stdout, stderr = e.anshim(t, append(base, "--format", "csv", "--degree", "1", "--reveal", "--reason", "testing", "--case-ref", "JJ-1")...)
	if code != 0 {
		t.Fatalf("csv: exit %d: %s", code, stderr)
	}
	if (*got)["reveal"] != true || (*got)["reason"] != "testing" || (*got)["case_ref"] != "JJ-1" || (*got)["degree"] != 1.0 {
		t.Errorf("request = %v", *got)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ref,degree,venue") ||
		!strings.Contains(lines[1], `"'=HYPERLINK(""http://evil"")"`) || !strings.Contains(lines[1], "'+821033334444") {
		t.Errorf("csv:\n%s", stdout)
	}
	if !strings.Contains(stderr, "1 identities revealed") {
		t.Errorf("stderr %q", stderr)
	}

	code, stdout, _ = e.anshim(t, append(base, "--format", "json")...)
	var ans map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &ans) != nil || ans["id"] != "t-01" {
		t.Errorf("json: exit %d: %s", code, stdout)
	}

	for _, tt := range []struct {
		args []string
		code int
		hint string
	}{
		{base[:len(base)-2], 2, "case reference"},
		{append(base, "--case-ref", " "), 2, "case reference"},
		{append(base, "--case-ref", "\u200b\u200b"), 2, "--case-ref: an invisible character (U+200B) at byte 0"},
		{append(base, "--case-ref", "JJ-\u202e1"), 2, "U+202E"},
		{append(base, "--reveal"), 2, "reason and case reference"},
		{append(base, "--reveal", "--reason", "\u200b"), 2, "--reason: an invisible character (U+200B)"},
		{append(base, "--reveal", "--reason", "x!"), 2, "at least 4 letters or digits"},
		{append(base, "--degree", "5"), 2, "--help"},
		{append(base, "--format", "xlsx"), 2, "--help"},
		{[]string{"trace", "--central", url, "--token-file", tokenFile, "--phone", "010-1111-2222"}, 2, "--asymptomatic"},
		{[]string{"trace", "--central", url, "--token-file", tokenFile, "--phone", "010-1111-2222", "--asymptomatic"}, 2, "sample"},
		{[]string{"trace", "--central", url, "--token-file", tokenFile, "--phone", "010-1111-2222", "--onset", "12 Nov", "--case-ref", "JJ-1"}, 2, "YYYY-MM-DD"},
		{[]string{"trace", "--central", url, "--token-file", tokenFile, "--onset", "2026-11-12"}, 2, "--help"},
		{[]string{"trace", "--central", url, "--token-file", filepath.Join(t.TempDir(), "none"), "--phone", "010-1111-2222", "--onset", "2026-11-12", "--case-ref", "JJ-1"}, 1, "token"},
	} {
		code, _, stderr := e.anshim(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, "anshim: hint:") || !strings.Contains(stderr, tt.hint) {
			t.Errorf("anshim %s: exit %d, want %d with a hint about %q:\n%s", strings.Join(tt.args[5:], " "), code, tt.code, tt.hint, stderr)
		}
	}
}
