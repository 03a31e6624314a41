package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/province"
)

// startCentral starts a central server in a temporary directory and
// returns its HTTP URL and admin token file.
func startCentral(t *testing.T) (url, tokenFile string) {
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
	return s.HTTPURL(), s.AdminTokenFile()
}

// Ensure that "anshim venue add" registers a venue, and says what to do
// when it exists or the admin token is wrong.
func TestVenueAdd(t *testing.T) {
	url, tokenFile := startCentral(t)
	e := testEnv(testNow, "")
	out := e.mustRun(t, "venue", "add", "--central", url, "--admin-token-file", tokenFile, "--id", "cafe-1", "--name", "Cafe Halla")
	if out != "added venue cafe-1 (Cafe Halla)\n" {
		t.Errorf("stdout = %q", out)
	}

	code, _, stderr := e.anshim(t, "venue", "add", "--central", url, "--admin-token-file", tokenFile, "--id", "cafe-1", "--name", "Cafe Halla")
	if code != 1 || !strings.Contains(stderr, "anshim: error: central: add venue cafe-1: already exists (HTTP 409)") ||
		!strings.Contains(stderr, "anshim: hint: venue cafe-1 exists already") {
		t.Errorf("venue twice: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, "venue", "add", "--central", url, "--admin-token-file", tokenFile, "--id", "a.b", "--name", "x")
	if code != 1 || !strings.Contains(stderr, "(HTTP 400)") {
		t.Errorf("bad id: exit %d\n%s", code, stderr)
	}

	wrong := filepath.Join(t.TempDir(), "wrong.token")
	writeFile(t, wrong, "0000\n")
	code, _, stderr = e.anshim(t, "venue", "add", "--central", url, "--admin-token-file", wrong, "--id", "cafe-2", "--name", "x")
	if code != 1 || !strings.Contains(stderr, "(HTTP 401)") || !strings.Contains(stderr, "anshim: hint: --admin-token-file must be") {
		t.Errorf("wrong token: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, "venue", "add", "--central", url, "--admin-token-file", filepath.Join(t.TempDir(), "none"), "--id", "cafe-2", "--name", "x")
	if code != 1 || !strings.Contains(stderr, "anshim: error: admin token: ") {
		t.Errorf("missing token file: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, "venue", "add", "--central", "http://127.0.0.1:1", "--admin-token-file", tokenFile, "--id", "cafe-2", "--name", "x")
	if code != 1 || !strings.Contains(stderr, "anshim: hint: is the central running") {
		t.Errorf("no central: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, "venue", "add", "--central", url, "--admin-token-file", tokenFile, "--id", "cafe-2")
	if code != 2 || !strings.Contains(stderr, "anshim: error: --id and --name are required") {
		t.Errorf("no name: exit %d\n%s", code, stderr)
	}
}
