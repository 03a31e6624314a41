package audit_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/central/audit"
	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/ledger"
)

// day1 and day2 are two KST days of check-ins.
var (
	day1 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC) // 19:00 KST
	day2 = time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)  // 10:00 KST
)

// backend makes a store, tampers with it out of band and opens its
// read-only audit view.
type backend struct {
	open    func(t *testing.T) store.Store
	delete  func(t *testing.T, device string, seq uint64)
	edit    func(t *testing.T, device string, seq uint64)
	view    func(t *testing.T) store.AuditView
	closeSt func(t *testing.T) // closes the writer before tampering (bbolt's lock)
}

func boltBackend(t *testing.T) *backend {
	path := filepath.Join(t.TempDir(), "central.db")
	var st *boltstore.Store
	raw := func(t *testing.T, fn func(b *bolt.Bucket) error) {
		if st != nil {
			st.Close()
			st = nil
		}
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("checkins"))) }); err != nil {
			t.Fatal(err)
		}
	}
	key := func(device string, seq uint64) []byte {
		return binary.BigEndian.AppendUint64(append([]byte{byte(len(device))}, device...), seq)
	}
	return &backend{
		open: func(t *testing.T) store.Store {
			var err error
			if st, err = boltstore.Open(path, &boltstore.Options{NoSync: true}); err != nil {
				t.Fatal(err)
			}
			return st
		},
		delete: func(t *testing.T, device string, seq uint64) {
			raw(t, func(b *bolt.Bucket) error { return b.Delete(key(device, seq)) })
		},
		edit: func(t *testing.T, device string, seq uint64) {
			raw(t, func(b *bolt.Bucket) error {
				v := append([]byte(nil), b.Get(key(device, seq))...)
				v[len(v)-1] ^= 1 // a bit of the sealed part
				return b.Put(key(device, seq), v)
			})
		},
		view: func(t *testing.T) store.AuditView {
			if st != nil {
				st.Close()
				st = nil
			}
			v, err := boltstore.OpenAuditView(path, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { v.Close() })
			return v
		},
	}
}

func pgBackend(t *testing.T) *backend {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	exec := func(t *testing.T, sql string, args ...any) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		tag, err := conn.Exec(ctx, sql, args...)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("%s: %v (%d rows)", sql, err, tag.RowsAffected())
		}
	}
	return &backend{
		open: func(t *testing.T) store.Store {
			st, err := pgstore.Open(ctx, dsn, &pgstore.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		delete: func(t *testing.T, device string, seq uint64) {
			exec(t, "DELETE FROM checkins WHERE device = $1 AND seq = $2", []byte(device), int64(seq))
		},
		edit: func(t *testing.T, device string, seq uint64) {
			exec(t, "UPDATE checkins SET venue = 'v-elsewhere' WHERE device = $1 AND seq = $2", []byte(device), int64(seq))
		},
		view: func(t *testing.T) store.AuditView {
			return auditorView(t, dsn)
		},
	}
}

// auditorView makes the anshim_auditor role on dsn's database, a login
// granted it, checks that the login cannot write, and opens the audit
// view as that login.
func auditorView(t *testing.T, dsn string) store.AuditView {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, pgstore.AuditorRoleSQL); err != nil {
		t.Fatalf("AuditorRoleSQL: %v", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	login := fmt.Sprintf("auditor_%x", rnd)
	if _, err := conn.Exec(ctx, "CREATE ROLE "+login+" LOGIN IN ROLE anshim_auditor"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgtest.DSN(t))
		if err == nil {
			c.Exec(context.Background(), "DROP ROLE IF EXISTS "+login)
			c.Close(context.Background())
		}
	})
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	as := strings.Replace(dsn, cfg.User+"@", login+"@", 1)
	ac, err := pgx.Connect(ctx, as)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"DELETE FROM checkins", "UPDATE ledger_head SET size = 0", "INSERT INTO dropped_days (day) VALUES ('2026-01-01')", "SELECT count(*) FROM tokens"} {
		if _, err := ac.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("as %s: %s: %v, want permission denied", login, sql, err)
		}
	}
	ac.Close(ctx)
	v, err := pgstore.OpenAuditView(ctx, as)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// fill ingests three batches of device k-1 (records 1-4 on day 1, 5-7
// across midnight, 8-10 on day 2) and one of k-2, with leaves as
// sync/ingest builds them, and signs a checkpoint.
func fill(t *testing.T, st store.Store, signer note.Signer) {
	ctx := context.Background()
	for _, d := range []string{"k-1", "k-2"} {
		if err := st.AddDevice(ctx, store.Device{ID: d, Venue: "v-1", Enrolled: day1}); err != nil {
			t.Fatal(err)
		}
	}
	ingest := func(device string, first, last uint64, at func(q uint64) time.Time) {
		h := checkin.Genesis(device)
		if first > 1 {
			h = chain(device, first-1)
		}
		var recs []store.CheckIn
		for q := first; q <= last; q++ {
			h = chain(device, q)
			sealed := make([]byte, 40)
			rand.Read(sealed)
			tm := at(q)
			recs = append(recs, store.CheckIn{Device: device, Seq: q, Venue: "v-1", Kind: checkin.Entry, RawWall: tm,
				Quality: checkin.NTPSynced, Mono: time.Duration(q) * time.Second, Time: tm, Sealed: sealed,
				Tag: [16]byte{byte(q)}, Hash: h, Received: tm.Add(time.Minute)})
		}
		leaf := ledgerstore.NewBatch(device, first, last, h, sha256.Sum256([]byte(device)), recs)
		if leaf.Stored == "" {
			t.Fatalf("batch %s %d-%d: no stored lines", device, first, last)
		}
		text, err := leaf.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if n, err := st.Ingest(ctx, store.Batch{Device: device, Records: recs, LastSeq: last, LastHash: h, Leaf: text}); err != nil || n != len(recs) {
			t.Fatalf("ingest %s %d-%d: %d, %v", device, first, last, n, err)
		}
	}
	ingest("k-1", 1, 4, func(q uint64) time.Time { return day1.Add(time.Duration(q) * time.Minute) })
	ingest("k-1", 5, 7, func(q uint64) time.Time { return day1.Add(time.Duration(q) * 50 * time.Minute) }) // 5 on day 1, 6-7 after midnight KST
	ingest("k-1", 8, 10, func(q uint64) time.Time { return day2.Add(time.Duration(q) * time.Minute) })
	ingest("k-2", 1, 2, func(q uint64) time.Time { return day2.Add(time.Duration(q) * time.Minute) })
	sign(t, st, signer)
}

// chain is a stand-in chain hash of a device's record q.
func chain(device string, q uint64) checkin.Hash {
	return checkin.Hash(sha256.Sum256(fmt.Appendf(nil, "%s/%d", device, q)))
}

// sign signs a checkpoint of the whole ledger.
func sign(t *testing.T, st store.Store, signer note.Signer) {
	ctx := context.Background()
	size, err := st.LedgerSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := st.LedgerLeaves(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	var tr ledger.Tree
	for _, l := range leaves {
		tr.Append(l)
	}
	root, _ := tr.Root(size)
	msg, err := ledger.Sign(ledger.Checkpoint{Size: size, Hash: root}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddCheckpoint(ctx, store.Checkpoint{Size: size, Time: day2, Note: msg}); err != nil {
		t.Fatal(err)
	}
}

// finding is what a test expects: kind, device, seq, day.
type finding struct {
	kind, device string
	seq          uint64
	day          string
}

// Ensure that the data audit passes a clean store and names each record
// deleted, dropped or edited out of band, on bbolt and on PostgreSQL (as a
// SELECT-only role).
func TestAudit(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "test.anshim/ledger")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	backends := map[string]func(*testing.T) *backend{"bolt": boltBackend, "postgres": pgBackend}
	tests := []struct {
		name   string
		tamper func(t *testing.T, b *backend, st store.Store)
		want   []finding
	}{
		{name: "clean", tamper: func(*testing.T, *backend, store.Store) {}},
		{
			name:   "rows deleted",
			tamper: func(t *testing.T, b *backend, _ store.Store) { b.delete(t, "k-1", 3); b.delete(t, "k-2", 2) },
			want:   []finding{{audit.Missing, "k-1", 3, "2026-11-20"}, {audit.Missing, "k-2", 2, "2026-11-21"}},
		},
		{
			name: "live day dropped without a destruction leaf",
			tamper: func(t *testing.T, _ *backend, st store.Store) {
				if _, err := st.DropDay(context.Background(), day1); err != nil {
					t.Fatal(err)
				}
			},
			want: []finding{{audit.Missing, "k-1", 1, "2026-11-20"}, {audit.Missing, "k-1", 2, "2026-11-20"},
				{audit.Missing, "k-1", 3, "2026-11-20"}, {audit.Missing, "k-1", 4, "2026-11-20"},
				{audit.Missing, "k-1", 5, "2026-11-20"}, {audit.Undocumented, "", 0, "2026-11-20"}},
		},
		{
			name: "day destroyed by retention",
			tamper: func(t *testing.T, _ *backend, st store.Store) {
				destroy(t, st, day1, 5)
			},
		},
		{
			name: "day destroyed with a wrong count",
			tamper: func(t *testing.T, _ *backend, st store.Store) {
				destroy(t, st, day1, 4)
			},
			want: []finding{{audit.Count, "", 0, "2026-11-20"}},
		},
		{
			name:   "record edited",
			tamper: func(t *testing.T, b *backend, _ store.Store) { b.edit(t, "k-1", 9) },
			want:   []finding{{audit.Altered, "k-1", 9, "2026-11-21"}},
		},
		{
			name:   "two records of a batch edited",
			tamper: func(t *testing.T, b *backend, _ store.Store) { b.edit(t, "k-1", 2); b.edit(t, "k-1", 3) },
			want: []finding{{audit.Altered, "k-1", 1, "2026-11-20"}, {audit.Altered, "k-1", 2, "2026-11-20"},
				{audit.Altered, "k-1", 3, "2026-11-20"}, {audit.Altered, "k-1", 4, "2026-11-20"}},
		},
	}
	for bname, mk := range backends {
		for _, tt := range tests {
			t.Run(bname+"/"+tt.name, func(t *testing.T) {
				b := mk(t)
				st := b.open(t)
				fill(t, st, signer)
				tt.tamper(t, b, st)
				rep, err := audit.Run(context.Background(), b.view(t), &audit.Options{Verifier: verifier})
				if err != nil {
					t.Fatal(err)
				}
				var got []finding
				for _, f := range rep.Findings {
					got = append(got, finding{f.Kind, f.Device, f.Seq, f.Day})
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("findings %v, want %v\n%v", got, tt.want, rep.Findings)
				}
				if rep.Leaves < 4 || rep.Signed != 4 || rep.OK() != (len(tt.want) == 0) {
					t.Errorf("report: %d leaves, signed %d, ok %v", rep.Leaves, rep.Signed, rep.OK())
				}
				if tt.name == "clean" && (rep.Records != 12 || len(rep.LiveDays) != 2 || len(rep.Warnings) != 0) {
					t.Errorf("clean: %d records, days %v, warnings %v", rep.Records, rep.LiveDays, rep.Warnings)
				}
			})
		}
	}
}

// destroy drops a day as the retention job does: the rows, then a
// day-destroyed event (and its leaf) with the count.
func destroy(t *testing.T, st store.Store, day time.Time, count int) {
	ctx := context.Background()
	if _, err := st.DropDay(ctx, day); err != nil {
		t.Fatal(err)
	}
	detail := fmt.Sprintf(`{"day":%q,"check_ins_dropped":%d,"key":"destroyed"}`, ledger.StoredDay(day), count)
	if _, err := st.AddAudit(ctx, store.AuditEvent{Time: day2, Kind: store.AuditDayDestroyed, Detail: detail}); err != nil {
		t.Fatal(err)
	}
}
