package pgstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Ensure that the embedded migrations load, numbered from 1 without gaps.
func TestLoadMigrations_Embedded(t *testing.T) {
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range migs {
		if m.version != i+1 || m.sql == "" {
			t.Fatalf("migration %d: version %d, %d bytes of SQL", i, m.version, len(m.sql))
		}
	}
}

// Ensure that loadMigrations refuses gaps, repeats, odd names and an empty
// set, and orders the rest.
func TestLoadMigrations(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("SELECT 1")}
	tests := []struct {
		name  string
		files []string
		ok    bool
	}{
		{"in order", []string{"0002_b.sql", "0001_a.sql", "0003_c.sql"}, true},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, false},
		{"repeat", []string{"0001_a.sql", "0001_b.sql"}, false},
		{"not from 1", []string{"0002_b.sql"}, false},
		{"odd name", []string{"0001_a.sql", "2_b.sql"}, false},
		{"capitals", []string{"0001_Init.sql"}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"migrations/README": file}
			for _, f := range tt.files {
				fsys["migrations/"+f] = file
			}
			migs, err := loadMigrations(fsys)
			if (err == nil) != tt.ok {
				t.Fatalf("loadMigrations(%v) = %v", tt.files, err)
			}
			for i, m := range migs {
				if m.version != i+1 {
					t.Fatalf("migration %d has version %d", i, m.version)
				}
			}
		})
	}
}

// newPool connects to dsn for a test of migrate.
func newPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// appliedVersions reads schema_migrations.
func appliedVersions(t *testing.T, pool *pgxpool.Pool) (versions []int, at []time.Time) {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT version, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		var a time.Time
		if err := rows.Scan(&v, &a); err != nil {
			t.Fatal(err)
		}
		versions, at = append(versions, v), append(at, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return versions, at
}

// Ensure that Open gives a fresh database every migration, and that
// opening it again applies nothing.
func TestOpen_Migrations(t *testing.T) {
	dsn := newDatabase(t)
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	openStore(t, dsn, nil).Close()
	pool := newPool(t, dsn)
	versions, at := appliedVersions(t, pool)
	if len(versions) != len(migs) || versions[len(versions)-1] != len(migs) {
		t.Fatalf("versions after Open: %v, want 1..%d", versions, len(migs))
	}
	openStore(t, dsn, nil).Close()
	if v2, at2 := appliedVersions(t, pool); !slices.Equal(v2, versions) || !slices.EqualFunc(at2, at, time.Time.Equal) {
		t.Fatalf("reopening changed schema_migrations: %v %v, was %v %v", v2, at2, versions, at)
	}
	applied, err := migrate(context.Background(), pool, migs)
	if err != nil || len(applied) != 0 {
		t.Fatalf("migrate of a current schema applied %v, %v", applied, err)
	}
}

// Ensure that migrate applies only the migrations a database lacks, in
// order, and that a failing migration leaves nothing behind.
func TestMigrate_Incremental(t *testing.T) {
	pool := newPool(t, newDatabase(t))
	ctx := context.Background()
	m1 := migration{1, "0001_a.sql", "CREATE TABLE a (x int)"}
	m2 := migration{2, "0002_b.sql", "ALTER TABLE a ADD COLUMN y int; CREATE TABLE b (z int)"}
	m3 := migration{3, "0003_c.sql", "CREATE TABLE c (z int); SELECT no_such_column FROM a"}
	if applied, err := migrate(ctx, pool, []migration{m1}); err != nil || !slices.Equal(applied, []int{1}) {
		t.Fatalf("migrate 1 = %v, %v", applied, err)
	}
	if applied, err := migrate(ctx, pool, []migration{m1, m2}); err != nil || !slices.Equal(applied, []int{2}) {
		t.Fatalf("migrate 1, 2 = %v, %v", applied, err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO a (x, y) VALUES (1, 2)"); err != nil {
		t.Fatalf("migration 2 not applied: %v", err)
	}
	if applied, err := migrate(ctx, pool, []migration{m1, m2, m3}); err == nil || !strings.Contains(err.Error(), "0003_c.sql") {
		t.Fatalf("migrate with a failing migration = %v, %v", applied, err)
	}
	if v, _ := appliedVersions(t, pool); !slices.Equal(v, []int{1, 2}) {
		t.Fatalf("versions after a failed migration: %v", v)
	}
	var c *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass('c')::text").Scan(&c); err != nil || c != nil {
		t.Fatalf("the failed migration left table c behind (%v, %v)", c, err)
	}
}

// Ensure that Open refuses, clearly, a database whose schema a newer
// binary migrated, and leaves it alone.
func TestOpen_SchemaTooNew(t *testing.T) {
	dsn := newDatabase(t)
	openStore(t, dsn, nil).Close()
	pool := newPool(t, dsn)
	migs, _ := loadMigrations(migrationFiles)
	next := len(migs) + 1
	if _, err := pool.Exec(context.Background(), "INSERT INTO schema_migrations (version) VALUES ($1)", next); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), dsn, nil)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database with a newer schema")
	}
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "version") {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew with the versions", err)
	}
	t.Logf("Open of a newer schema: %v", err)
	if v, _ := appliedVersions(t, pool); len(v) != next {
		t.Fatalf("versions after the refusal: %v", v)
	}
}

// Ensure that servers opening a fresh database together apply each
// migration once.
func TestOpen_Concurrent(t *testing.T) {
	dsn := newDatabase(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn, &Options{MaxConns: 2})
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	migs, _ := loadMigrations(migrationFiles)
	if v, _ := appliedVersions(t, newPool(t, dsn)); len(v) != len(migs) {
		t.Fatalf("versions after concurrent Opens: %v", v)
	}
}

// Ensure that Open fails with a clear error when the server is not there.
func TestOpen_NoServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "pgstore: open: ") {
		t.Fatalf("Open without a server: %v", err)
	}
}
