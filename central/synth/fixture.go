package synth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/province"
)

// Fixture is a province loaded into a store for benchmarks, with the
// province keys and the day keys it was sealed under, laid out as a
// central's: KeysDir holds the province keys, DataDir the day-key file
// (DataDir/daykeys). A kept fixture (FixtureOptions.Keep) survives the
// run and is reused by the next one with the same scale; DropFixtures
// removes kept fixtures.
type Fixture struct {
	// Config is the province's, First and Now as loaded: traces should
	// run at End (Now), which is the start of the KST day after the last
	// one loaded.
	Config Config    `json:"-"`
	End    time.Time `json:"end"`
	// Backend is "pg" or "bolt"; Store the store's spec (a postgres:// URL
	// or bolt:PATH).
	Backend string `json:"backend"`
	Store   string `json:"store"`
	// KeysDir and DataDir are the province keys' directory and the
	// central data directory with the day keys.
	KeysDir string `json:"keys_dir"`
	DataDir string `json:"data_dir"`
	// Cases are residents registered in the identity vault (their
	// check-ins carry the vault's pseudonyms).
	Cases []Case `json:"cases"`
	// Stats are the load's (CheckIns only, when reused).
	Stats Stats `json:"stats"`
	// Reused says whether the fixture was found kept rather than loaded.
	Reused bool `json:"-"`

	province *Province
	dir      string // removed by Close unless kept
	admin    string // the PostgreSQL server, to drop the database
	kept     bool
}

// FixtureOptions configure OpenFixture.
type FixtureOptions struct {
	// Backend is "pg" (AdminDSN required) or "bolt".
	Backend string
	// AdminDSN names a PostgreSQL server where databases may be created
	// and dropped (ANSHIM_TEST_PG).
	AdminDSN string
	// Keep is a directory to keep the fixture in between runs (the
	// database stays on the server, named after the scale): "" loads a
	// fresh one that Close drops.
	Keep string
	// Cases is how many residents to register in the vault (PickCases).
	Cases int
	// Logf logs the load's progress (nil: silent).
	Logf func(format string, args ...any)
}

// fixtureFile is a kept fixture's description, written once it is
// loaded and analysed.
const fixtureFile = "fixture.json"

// fixturePrefix starts the names of kept fixtures' databases and
// directories.
const fixturePrefix = "anshim_synth_"

// OpenFixture returns the province of cfg loaded into a store: the kept
// one of the same scale (Venues, People, Days, PerDay, Seed, Tourists,
// ExitShare, cases and backend) in opts.Keep when there is one, loaded
// and analysed otherwise. cfg.First and cfg.Now are ignored: a new
// province covers the Days whole KST days before today, and traces run at
// its End.
func OpenFixture(ctx context.Context, cfg Config, opts FixtureOptions) (*Fixture, error) {
	if opts.Backend != "pg" && opts.Backend != "bolt" {
		return nil, fmt.Errorf("synth: fixture backend %q: want pg or bolt", opts.Backend)
	}
	if opts.Backend == "pg" && opts.AdminDSN == "" {
		return nil, errors.New("synth: a PostgreSQL fixture needs the server's address (ANSHIM_TEST_PG)")
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	cfg.First, cfg.Now = 0, nil
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s %d %d %d %d %d %d %g %d", opts.Backend, cfg.Venues, cfg.People,
		cfg.Days, cfg.PerDay, cfg.Seed, cfg.Tourists, cfg.ExitShare, opts.Cases))
	name := fixturePrefix + hex.EncodeToString(h[:6])
	f := &Fixture{Backend: opts.Backend, admin: opts.AdminDSN}
	if opts.Keep != "" {
		f.dir, f.kept = filepath.Join(opts.Keep, name), true
		if g, err := reopen(ctx, f.dir, opts.AdminDSN); err == nil {
			logf("synth: reusing the kept province %s (%d check-ins, loaded for %s)", f.dir, g.Stats.CheckIns, g.End.Format(time.RFC3339))
			return g, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			logf("synth: the kept province %s cannot be reused (%v): loading it again", f.dir, err)
		}
		if err := os.RemoveAll(f.dir); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	} else {
		var rnd [6]byte
		rand.Read(rnd[:])
		name += "_" + hex.EncodeToString(rnd[:])
		dir, err := os.MkdirTemp("", name)
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		f.dir = dir
	}
	ok := false
	defer func() {
		if !ok {
			f.drop(context.WithoutCancel(ctx))
		}
	}()
	f.KeysDir, f.DataDir = filepath.Join(f.dir, "keys"), filepath.Join(f.dir, "data")
	if err := os.MkdirAll(f.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	switch opts.Backend {
	case "pg":
		dsn, err := withDatabase(opts.AdminDSN, name)
		if err != nil {
			return nil, err
		}
		if err := adminExec(ctx, opts.AdminDSN, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return nil, err
		}
		if err := adminExec(ctx, opts.AdminDSN, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return nil, err
		}
		f.Store = dsn
	case "bolt":
		f.Store = "bolt:" + filepath.Join(f.dir, "central.db")
	}
	// Whole days ending yesterday; the clock stays at the start of today.
	today := daykeys.DayOf(time.Now())
	f.End = today.Start()
	cfg.First = today - daykeys.Day(cfg.Days)
	end := f.End
	cfg.Now = func() time.Time { return end }
	f.Config = cfg

	pk, err := province.Generate(nil, "jeju")
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if err := pk.Save(f.KeysDir); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	keys, err := daykeys.Open(filepath.Join(f.DataDir, "daykeys"), pk.KEK()[:], cfg.First)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	st, err := f.OpenStore(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	p, err := New(cfg)
	if err != nil {
		return nil, err
	}
	last := time.Now()
	p.SetProgress(func(pr Progress) {
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			logf("synth: %s: %d/%d, %.0f/s, ETA %s", opts.Backend, pr.Done, pr.Total, pr.Rate(), pr.ETA().Round(time.Second))
		}
	})
	if opts.Cases > 0 {
		v, err := vault.New(st, pk.KEK(), pk.Signer(), &vault.Options{Now: cfg.Now})
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		f.Cases = p.PickCases(opts.Cases)
		if err := p.RegisterCases(ctx, v, f.Cases); err != nil {
			return nil, err
		}
	}
	stats, err := p.Load(ctx, st, keys)
	if err != nil {
		return nil, err
	}
	f.Stats = *stats
	logf("synth: %s: loaded %d check-ins in %s (%.0f/s); analysing", opts.Backend, stats.CheckIns,
		stats.Elapsed.Round(time.Second), float64(stats.CheckIns)/max(stats.Elapsed.Seconds(), 1e-9))
	switch s := st.(type) {
	case *pgstore.Store:
		if err := p.WritePlainTable(ctx, f.Store, keys); err != nil {
			return nil, err
		}
		// What autovacuum does to a loaded table, at once: statistics for
		// the planner and a visibility map for index-only scans.
		if err := adminExec(ctx, f.Store, "VACUUM (ANALYZE) checkins"); err != nil {
			return nil, err
		}
	case *boltstore.Store:
		if err := s.Sync(); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	f.province = p
	if f.kept {
		c := f.Config
		b, err := json.MarshalIndent(fixtureJSON{scale{c.Venues, c.People, c.Days, c.PerDay, c.Tourists, c.First, c.Seed, c.ExitShare}, f}, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		if err := os.WriteFile(filepath.Join(f.dir, fixtureFile), b, 0o600); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	ok = true
	return f, nil
}

// scale is what a kept fixture's file records of its Config.
type scale struct {
	Venues, People, Days, PerDay, Tourists int
	First                                  daykeys.Day
	Seed                                   uint64
	ExitShare                              float64
}

// fixtureJSON is a kept fixture's file.
type fixtureJSON struct {
	Scale scale `json:"scale"`
	*Fixture
}

// reopen returns the kept fixture in dir: os.ErrNotExist when there is
// none.
func reopen(ctx context.Context, dir, admin string) (*Fixture, error) {
	b, err := os.ReadFile(filepath.Join(dir, fixtureFile))
	if err != nil {
		return nil, err
	}
	f := &Fixture{}
	g := fixtureJSON{Fixture: f}
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", fixtureFile, err)
	}
	c := g.Scale
	f.Config = Config{Venues: c.Venues, People: c.People, Days: c.Days, PerDay: c.PerDay, Tourists: c.Tourists,
		First: c.First, Seed: c.Seed, ExitShare: c.ExitShare}
	f.Reused, f.dir, f.admin, f.kept = true, dir, admin, true
	end := f.End
	f.Config.Now = func() time.Time { return end }
	st, err := f.OpenStore(ctx) // the store is there and opens
	if err != nil {
		return nil, err
	}
	defer st.Close()
	p, err := New(f.Config)
	if err != nil {
		return nil, err
	}
	if len(f.Cases) > 0 {
		pk, err := province.Load(f.KeysDir)
		if err != nil {
			return nil, err
		}
		v, err := vault.New(st, pk.KEK(), pk.Signer(), &vault.Options{Now: f.Config.Now})
		if err != nil {
			return nil, err
		}
		if err := p.RegisterCases(ctx, v, f.Cases); err != nil { // looks the pseudonyms up
			return nil, err
		}
	}
	f.province = p
	return f, nil
}

// Province is the fixture's province (case residents with their vault
// pseudonyms).
func (f *Fixture) Province() *Province { return f.province }

// OpenStore opens the fixture's store (one opener at a time on bbolt).
func (f *Fixture) OpenStore(ctx context.Context) (store.Store, error) {
	if path, ok := strings.CutPrefix(f.Store, "bolt:"); ok {
		st, err := boltstore.Open(path, &boltstore.Options{NoSync: true, Timeout: 10 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		return st, nil
	}
	st, err := pgstore.Open(ctx, f.Store, nil)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	return st, nil
}

// DayKeys opens the fixture's day keys.
func (f *Fixture) DayKeys() (*daykeys.Keys, error) {
	pk, err := province.Load(f.KeysDir)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	k, err := daykeys.Open(filepath.Join(f.DataDir, "daykeys"), pk.KEK()[:], f.Config.First)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	return k, nil
}

// Close drops a fixture that is not kept: its database and directory.
func (f *Fixture) Close(ctx context.Context) error {
	if f.kept {
		return nil
	}
	return f.drop(ctx)
}

func (f *Fixture) drop(ctx context.Context) error {
	var err error
	if f.Backend == "pg" && f.Store != "" {
		err = dropDatabase(ctx, f.admin, f.Store)
	}
	return errors.Join(err, os.RemoveAll(f.dir))
}

// DropFixtures removes every kept fixture in keep: its databases on the
// server admin (when not "") and its directories. It returns how many it
// removed.
func DropFixtures(ctx context.Context, keep, admin string) (int, error) {
	ms, err := filepath.Glob(filepath.Join(keep, fixturePrefix+"*"))
	if err != nil {
		return 0, fmt.Errorf("synth: %w", err)
	}
	n := 0
	for _, dir := range ms {
		f := &Fixture{dir: dir, admin: admin}
		if b, err := os.ReadFile(filepath.Join(dir, fixtureFile)); err == nil {
			_ = json.Unmarshal(b, f)
		}
		if admin != "" {
			dsn, err := withDatabase(admin, filepath.Base(dir))
			if err != nil {
				return n, err
			}
			f.Backend, f.Store = "pg", dsn
		}
		if err := f.drop(ctx); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// dropDatabase drops the database dsn names, on the server admin.
func dropDatabase(ctx context.Context, admin, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)")
}

// withDatabase returns dsn naming the database name instead of its own.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("synth: %w", err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil // key=value form: the last value wins
}

// adminExec runs sql outside a transaction on the server dsn names.
func adminExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("synth: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("synth: %s: %w", strings.Fields(sql)[0], err)
	}
	return nil
}
