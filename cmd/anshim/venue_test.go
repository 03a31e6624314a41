package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/venuecode"
)

// startCentral starts a central server in a temporary directory and
// returns its HTTP URL and admin token file.
func startCentral(t *testing.T) (url, tokenFile string) {
	t.Helper()
	url, tokenFile, _ = startCentralKeys(t)
	return url, tokenFile
}

// startCentralKeys is startCentral, returning the province's keys too.
func startCentralKeys(t *testing.T) (url, tokenFile string, keys *province.Keys) {
	t.Helper()
	dir := t.TempDir()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "province")); err != nil {
		t.Fatal(err)
	}
	s, err := central.New(central.Config{
		Data: dir,
		HTTP: "127.0.0.1:0",
		NATS: central.NATSConfig{Listen: "127.0.0.1:-1"},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.HTTPURL(), s.AdminTokenFile(), keys
}

// venueAddArgs returns the arguments of "anshim venue add" for a valid
// registration of id, then extra flags.
func venueAddArgs(id string, extra ...string) []string {
	return append([]string{"venue", "add", "--id", id, "--name", "Cafe Halla",
		"--business-number", "123-45-67891", "--address", "제주특별자치도 제주시 중앙로 1",
		"--category", "cafe", "--lat", "33.4996", "--lon", "126.5312", "--owner-phone", "010-1234-5678"}, extra...)
}

// Ensure that "anshim venue add" registers a venue, and says what to do
// when it exists or the admin token is wrong.
func TestVenueAdd(t *testing.T) {
	url, tokenFile := startCentral(t)
	e := testEnv(testNow, "")
	flags := []string{"--central", url, "--admin-token-file", tokenFile}
	out := e.mustRun(t, append(venueAddArgs("cafe-1"), flags...)...)
	if out != "registered venue cafe-1 (Cafe Halla): cafe, default stay 45 min, status applied\n"+
		"approve it with: anshim venue status --central "+url+" --admin-token-file "+tokenFile+" --id cafe-1 --status approved\n" {
		t.Errorf("stdout = %q", out)
	}

	code, _, stderr := e.anshim(t, append(venueAddArgs("cafe-1", "--business-number", "124-81-00998"), flags...)...)
	if code != 1 || !strings.Contains(stderr, "anshim: error: central: add venue cafe-1: id: already exists (HTTP 409)") ||
		!strings.Contains(stderr, "anshim: hint: venue cafe-1 exists already") {
		t.Errorf("venue twice: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, append(venueAddArgs("cafe-2"), flags...)...)
	if code != 1 || !strings.Contains(stderr, "anshim: error: central: add venue cafe-2: business_number 123-45-67891: already exists (venue cafe-1) (HTTP 409)") ||
		!strings.Contains(stderr, "anshim: hint: business number 123-45-67891 is registered already") {
		t.Errorf("business number twice: exit %d\n%s", code, stderr)
	}
	out = e.mustRun(t, append(venueAddArgs("cafe-3", "--business-number", "1248100998", "--category", "PC-Room", "--default-stay", "100", "--status", "approved"), flags...)...)
	if out != "registered venue cafe-3 (Cafe Halla): pc-room, default stay 100 min, status approved\n" {
		t.Errorf("stdout = %q", out)
	}

	wrong := filepath.Join(t.TempDir(), "wrong.token")
	writeFile(t, wrong, "0000\n")
	code, _, stderr = e.anshim(t, append(venueAddArgs("cafe-4"), "--central", url, "--admin-token-file", wrong)...)
	if code != 1 || !strings.Contains(stderr, "(HTTP 401)") || !strings.Contains(stderr, "anshim: hint: --admin-token-file must be") {
		t.Errorf("wrong token: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, append(venueAddArgs("cafe-4"), "--central", url, "--admin-token-file", filepath.Join(t.TempDir(), "none"))...)
	if code != 1 || !strings.Contains(stderr, "anshim: error: admin token: ") {
		t.Errorf("missing token file: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, append(venueAddArgs("cafe-4"), "--central", "http://127.0.0.1:1", "--admin-token-file", tokenFile)...)
	if code != 1 || !strings.Contains(stderr, "anshim: hint: is the central running") {
		t.Errorf("no central: exit %d\n%s", code, stderr)
	}
}

// Ensure that bad flags are refused before anything is sent, each named
// with a hint, all at once.
func TestVenueAdd_BadFlags(t *testing.T) {
	e := testEnv(testNow, "")
	// No central listens there: a request would fail otherwise.
	flags := []string{"--central", "http://127.0.0.1:1", "--admin-token-file", "/nonexistent"}
	for _, tt := range []struct {
		name string
		args []string
		err  string
		hint string
	}{
		{"check digit", venueAddArgs("cafe-1", "--business-number", "123-45-67890"),
			"anshim: error: --business-number: check digit does not match\n", "anshim: hint: --business-number: give the 10 digits"},
		{"business number form", venueAddArgs("cafe-1", "--business-number", "123-4567-891"),
			"anshim: error: --business-number: want 10 digits written NNN-NN-NNNNN\n", "anshim: hint: --business-number: "},
		{"phone", venueAddArgs("cafe-1", "--owner-phone", "+1 202 555 0123"),
			"anshim: error: --owner-phone: want a Korean phone number", "anshim: hint: --owner-phone: give a Korean mobile or landline number"},
		{"latitude", venueAddArgs("cafe-1", "--lat", "3.4996"),
			"anshim: error: --lat: 3.4996 is outside South Korea (33 to 38.7 N)\n", "anshim: hint: --lat: give decimal degrees north"},
		{"swapped", venueAddArgs("cafe-1", "--lat", "126.5312", "--lon", "33.4996"),
			"anshim: error: --lat: 126.5312 is outside South Korea (33 to 38.7 N); --lon: 33.4996 is outside South Korea (124.5 to 131.9 E)\n",
			"anshim: hint: --lat: give decimal degrees north within South Korea, such as --lat 33.4996 (Jeju City)\nanshim: hint: --lon: "},
		{"at sea or abroad", venueAddArgs("cafe-1", "--lat", "33.5902", "--lon", "130.4017"),
			"anshim: error: --lat/--lon: 33.5902 N 130.4017 E is not on South Korea's land", "anshim: hint: --lat/--lon: give a point on land in South Korea"},
		{"NaN", venueAddArgs("cafe-1", "--lon", "NaN"), "anshim: error: --lon: not a number\n", "anshim: hint: --lon: "},
		{"not a number", venueAddArgs("cafe-1", "--lat", "33°30'N"), `anshim: error: --lat "33°30'N": not a number`, "anshim: hint: give decimal degrees"},
		{"category", venueAddArgs("cafe-1", "--category", "disco"), `anshim: error: --category: unknown category "disco" (want one of restaurant, cafe, bar, bathhouse, gym, karaoke, pc-room, church, academy, other)`, ""},
		{"stay", venueAddArgs("cafe-1", "--default-stay", "5"), "anshim: error: --default-stay: 5 minutes: want 15 to 1425\n", "anshim: hint: --default-stay: "},
		{"status", venueAddArgs("cafe-1", "--status", "suspended"), "anshim: error: --status: a new venue is applied or approved\n", "anshim: hint: --status: "},
		{"id", venueAddArgs("a.b"), `anshim: error: --id: "a.b": want 1 to 64 letters`, "anshim: hint: --id: "},
		{"three at once", venueAddArgs("cafe-1", "--business-number", "123-45-67890", "--lat", "0", "--owner-phone", "112"),
			"anshim: error: --business-number: check digit does not match; --lat: 0 is outside South Korea (33 to 38.7 N); --owner-phone: ",
			"anshim: hint: --business-number: give the 10 digits of the business registration certificate (사업자등록증) as NNN-NN-NNNNN; a typo makes the check digit fail\nanshim: hint: --lat: "},
		{"missing", []string{"venue", "add", "--id", "cafe-1", "--name", "x", "--lon", "126.5"},
			"anshim: error: missing --business-number, --address, --category, --lat, --owner-phone\n", "anshim: hint: run 'anshim venue add --help' for usage"},
	} {
		code, _, stderr := e.anshim(t, append(tt.args, flags...)...)
		if code != 2 || !strings.Contains(stderr, tt.err) || !strings.Contains(stderr, tt.hint) {
			t.Errorf("%s: exit %d, want 2 with %q and %q:\n%s", tt.name, code, tt.err, tt.hint, stderr)
		}
	}
}

// Ensure that "anshim venue status", "show" and "poster" work, and that
// tokens and posters wait for the venue's approval.
func TestVenueStatus_Show_Poster(t *testing.T) {
	url, tokenFile, keys := startCentralKeys(t)
	e := testEnv(testNow, "")
	flags := []string{"--central", url, "--admin-token-file", tokenFile}
	run := func(args ...string) (int, string, string) { return e.anshim(t, append(args, flags...)...) }
	e.mustRun(t, append(venueAddArgs("cafe-1"), flags...)...)

	code, _, stderr := run("venue", "poster", "--id", "cafe-1")
	if code != 1 || !strings.Contains(stderr, "venue cafe-1: not approved") || !strings.Contains(stderr, "(HTTP 409)") ||
		!strings.Contains(stderr, "anshim: hint: approve the venue first: 'anshim venue status "+strings.Join(flags, " ")+" --id cafe-1 --status approved'") {
		t.Errorf("poster of an applied venue: exit %d\n%s", code, stderr)
	}
	code, _, stderr = run("device", "token", "--venue", "cafe-1")
	if code != 1 || !strings.Contains(stderr, "(its status is applied)") || !strings.Contains(stderr, "anshim: hint: approve the venue first") {
		t.Errorf("token of an applied venue: exit %d\n%s", code, stderr)
	}
	code, _, stderr = run("venue", "status", "--id", "cafe-1", "--status", "suspended")
	if code != 1 || !strings.Contains(stderr, "status: a venue cannot go from applied to suspended") ||
		!strings.Contains(stderr, "anshim: hint: a venue goes applied → approved → suspended → approved") {
		t.Errorf("suspend an applied venue: exit %d\n%s", code, stderr)
	}
	if out := e.mustRun(t, append([]string{"venue", "status", "--id", "cafe-1", "--status", "Approved"}, flags...)...); out != "venue cafe-1 is approved\n" {
		t.Errorf("approve: %q", out)
	}

	out := e.mustRun(t, append([]string{"venue", "show", "--id", "cafe-1"}, flags...)...)
	for _, want := range []string{
		"venue:            cafe-1\n", "name:             Cafe Halla\n", "business number:  123-45-67891\n",
		"address:          제주특별자치도 제주시 중앙로 1\n", "category:         cafe\n", "default stay:     45 min\n",
		"location:         33.4996 N, 126.5312 E\n", "owner phone:      +821012345678\n", "status:           approved\n", " KST\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(e.mustRun(t, append([]string{"venue", "show", "--id", "cafe-1", "--json"}, flags...)...)), &v); err != nil ||
		v["business_number"] != "123-45-67891" || v["location"].(map[string]any)["lat"] != 33.4996 {
		t.Errorf("show --json: %v %v", v, err)
	}

	png := filepath.Join(t.TempDir(), "poster.png")
	code, stdout, stderr := run("venue", "poster", "--id", "cafe-1", "--png", png)
	if code != 0 || !strings.Contains(stderr, "anshim: poster of venue cafe-1, signed with key ") || !strings.Contains(stderr, "anshim: wrote QR code to ") {
		t.Fatalf("poster: exit %d\n%s", code, stderr)
	}
	text := strings.TrimSuffix(stdout, "\n")
	if venue, err := venuecode.VerifyPoster(keys.PassKeys(), text); err != nil || venue != "cafe-1" {
		t.Errorf("poster %q: %q, %v", text, venue, err)
	}
	if got, ec, err := decodeQRFile(png); err != nil || got != text || ec != "M" {
		t.Errorf("QR code holds %q at %q (%v), want %q at M", got, ec, err, text)
	}

	out = e.mustRun(t, append([]string{"venue", "status", "--id", "cafe-1", "--status", "suspended"}, flags...)...)
	if out != "venue cafe-1 is suspended\nits kiosks keep syncing; it gets no kiosk tokens or posters until approved again\n" {
		t.Errorf("suspend: %q", out)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"venue", "show", "--id", "nowhere"}, 1, "anshim: hint: no venue nowhere at this central"},
		{[]string{"venue", "status", "--id", "nowhere", "--status", "approved"}, 1, "(HTTP 404)"},
		{[]string{"venue", "poster", "--id", "nowhere"}, 1, "anshim: hint: no venue nowhere at this central"},
		{[]string{"venue", "status", "--id", "cafe-1", "--status", "closed"}, 2, `anshim: error: --status: unknown status "closed"`},
		{[]string{"venue", "status", "--id", "cafe-1"}, 2, "anshim: error: --status is required"},
		{[]string{"venue", "show"}, 2, "anshim: error: --id is required"},
		{[]string{"venue", "poster", "--id", "a/b"}, 2, `anshim: error: --id "a/b": not a venue id`},
		{[]string{"venue", "poster", "--id", "cafe-1", "--size", "10"}, 2, "--size 10 is out of range"},
	} {
		code, _, stderr := run(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("anshim %s: exit %d, want %d with %q\n%s", strings.Join(tt.args, " "), code, tt.code, tt.want, stderr)
		}
	}
}
