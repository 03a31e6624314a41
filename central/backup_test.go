package central

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/audit"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
)

// getBackup asks a central for GET /v1/backup with its admin token and
// writes the body to path; it returns the status and the headers.
func getBackup(t *testing.T, ts *testServer, path string) (int, http.Header) {
	t.Helper()
	tok, err := os.ReadFile(ts.AdminTokenFile())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", ts.HTTPURL()+"/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header
}

// Ensure that a backup taken from a running bbolt central is read by the
// data audit, and restored in a new data directory with a copy of DATA/daykeys
// serves the same trace,
// that the backup is audited with who took it, and that the same backup
// without the day-key ratchet is refused at start.
func TestBackup_Restore(t *testing.T) {
	ts := startServer(t)
	_, contact := seedCafeCase(t, ts)
	ctx := context.Background()
	trace := func(s *testServer) [][16]byte {
		t.Helper()
		res, err := s.Trace(ctx, TraceRequest{Phone: "010-1111-2222", Onset: "2026-03-03", Degree: 1, CaseRef: "JJ-2026-1"}, "kim")
		if err != nil {
			t.Fatal(err)
		}
		var got [][16]byte
		for _, c := range res.Contacts {
			got = append(got, c.Pseudonym)
		}
		return got
	}
	before := trace(ts)
	if len(before) != 1 || before[0] != contact.Pseudonym {
		t.Fatalf("trace before the backup: %v, want the one contact", before)
	}

	dir := t.TempDir()
	backup := filepath.Join(dir, "backup.db")
	code, h := getBackup(t, ts, backup)
	fi, err := os.Stat(backup)
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="anshim-central-`) || h.Get("Content-Length") != strconv.FormatInt(fi.Size(), 10) {
		t.Fatalf("GET /v1/backup = %d %v", code, h)
	}
	view, err := boltstore.OpenAuditView(backup, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The data audit reads the backup (seedCafeCase stores its two
	// check-ins without the ingest's ledger leaves, so the audit's
	// findings say that and are not asserted here).
	rep, err := audit.Run(ctx, view, nil)
	view.Close()
	if err != nil || rep.Records != 2 {
		t.Errorf("data audit of the backup: %d records, %v; want 2", rep.Records, err)
	}
	ev := auditOf(t, ts, store.AuditStoreBackup)
	if len(ev) != 1 || ev[0].Who != "admin" {
		t.Errorf("store-backup events %+v: want one naming the admin", ev)
	}

	// Restore: a new data directory, the backup as its store, the same
	// province keys and a copy of the day-key ratchet.
	cfg := ts.cfg
	cfg.Data, cfg.Keys = filepath.Join(dir, "restored"), filepath.Join(ts.cfg.DataOrDefault(), "province")
	cfg.Store = "bolt:" + backup
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	if s, err := New(cfg, nil); err == nil {
		s.Close()
		t.Fatal("the backup started without its day-key ratchet")
	} else if !strings.Contains(err.Error(), "copy DATA/daykeys") {
		t.Errorf("start without the ratchet: %v", err)
	}
	dk, err := os.ReadFile(filepath.Join(ts.cfg.DataOrDefault(), DayKeysFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Data, DayKeysFile), dk, 0o600); err != nil {
		t.Fatal(err)
	}
	ts.Close() // the original is gone
	restored := startServerWith(t, cfg, ts.keys, ts.clock)
	if after := trace(restored); len(after) != 1 || after[0] != before[0] {
		t.Errorf("trace on the restored central: %v, want %v", after, before)
	}
	if p, err := restored.vault.Person(ctx, contact.ID); err != nil || p.Pseudonym != contact.Pseudonym {
		t.Errorf("the restored vault: %+v, %v", p, err)
	}
}

// Ensure that a PostgreSQL central answers GET /v1/backup with 409 and
// what to use instead.
func TestBackup_PostgresRefused(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	cfg.Store = dsn
	ts := startServerWith(t, cfg, keys, clock)
	path := filepath.Join(t.TempDir(), "answer")
	code, _ := getBackup(t, ts, path)
	body, _ := os.ReadFile(path)
	if code != http.StatusConflict || !strings.Contains(string(body), "pg_basebackup") {
		t.Errorf("GET /v1/backup on PostgreSQL = %d %s", code, body)
	}
}

// Ensure that the administration's home offers the backup of a bbolt
// store, that the download is a store holding the central's venues with
// its length announced, audited with the web account's name, and that on
// PostgreSQL the home says to use PostgreSQL's tools and the download is
// 409.
func TestBackup_AdminPage(t *testing.T) {
	ts := startServer(t)
	seedCafeCase(t, ts)
	b := signInAdmin(t, ts, "kang.admin")
	_, _, home := b.do("GET", "/admin", nil)
	if !strings.Contains(home, `id="backup-download" href="/admin/backup"`) {
		t.Fatal("the administration's home offers no backup")
	}
	req, _ := http.NewRequest("GET", b.base+"/admin/backup", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Fatalf("GET /admin/backup = %d, %d bytes, Content-Length %q, %v", resp.StatusCode, len(data), resp.Header.Get("Content-Length"), err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	copyStore, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer copyStore.Close()
	if v, err := copyStore.Venue(context.Background(), "v-cafe"); err != nil || v.Name != "한라카페" {
		t.Errorf("the downloaded copy's venue: %+v, %v", v, err)
	}
	if ev := auditOf(t, ts, store.AuditStoreBackup); len(ev) != 1 || ev[0].Who != "kang.admin" {
		t.Errorf("store-backup events %+v: want one naming kang.admin", ev)
	}

	dsn := pgtest.NewDatabase(t)
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	cfg.Store = dsn
	pg := startServerWith(t, cfg, keys, clock)
	pb := signInAdmin(t, pg, "kang.admin")
	if _, _, home := pb.do("GET", "/admin", nil); !strings.Contains(home, `id="backup-postgres"`) || strings.Contains(home, `id="backup-download"`) {
		t.Error("the PostgreSQL central's home does not say to use PostgreSQL's tools")
	}
	if code, _, _ := pb.do("GET", "/admin/backup", nil); code != http.StatusConflict {
		t.Errorf("GET /admin/backup on PostgreSQL = %d, want 409", code)
	}
}
