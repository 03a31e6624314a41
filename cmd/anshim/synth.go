package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/synth"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/province"
)

const synthUsage = `Usage: anshim synth --store bolt:PATH|postgres://... --keys DIR [--data DIR]
        [--venues N] [--people N] [--days N] [--per-day N] [--seed N]
        [--cases N] [--central URL]

Synth builds a synthetic province for load and tracing tests: venues
registered and approved (valid business numbers) across Jeju with one
enrolled kiosk each, residents with homes and habits (Jeju City about
half), tourists arriving through the airport (--people/25 a day) who move
across the island for a few days, and --per-day check-ins a day for --days
days ending today, about a fifth of the stays scanned out; today's stop
at the current time, none later. Check-ins are
sealed and tagged under the day keys exactly as the central's ingest does
and written through the store's bulk path (COPY into the day's partition
on PostgreSQL); the day keys are those of the central's data directory
(DATA/daykeys, made under the province's key-encryption key if missing).

At the end it prints --cases residents to try a trace with: the residents
with the most check-ins since two days before yesterday, registered in the
identity vault under synthetic phone numbers, each as an "anshim trace"
command line with an onset of yesterday (for the central at --central
serving this store and data directory).

The store must not be in use by a running central, and its kiosks must be
new: run synth on an empty store. The same --seed gives the same province
(the cases' pseudonyms are the vault's, new in every store).

Example (the Jeju Safe Code scale, ~36 M check-ins):

	anshim synth --venues 50000 --people 1000000 --days 28 --per-day 1300000 \
		--store postgres://anshim@127.0.0.1/anshim --keys /etc/anshim/keys \
		--data /var/lib/anshim-central`

// runSynth runs "anshim synth".
func (e *env) runSynth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim synth"
	flags := cli.NewFlagSet(prog, synthUsage)
	venues := flags.Int("venues", 50_000, "venues (one kiosk each)")
	people := flags.Int("people", 1_000_000, "residents")
	days := flags.Int("days", 28, "days of check-ins, ending today (1 to 28)")
	perDay := flags.Int("per-day", 1_300_000, "check-ins a day")
	seed := flags.Uint64("seed", 1, "seed of the scenario")
	storeArg := flags.String("store", "", "the central's store: bolt:`PATH` or a postgres:// URL")
	keysDir := flags.String("keys", "", "`directory` of the province keys (for the key-encryption key)")
	dataDir := flags.String("data", "", "the central's data `directory`, for its daykeys file (default: the bolt file's directory)")
	nCases := flags.Int("cases", 3, "residents to register and print as `N` trace commands to try")
	centralURL := flags.String("central", "http://"+central.DefaultHTTP, "the central's `URL`, for the trace commands printed")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q", rest[0])
	}
	if *storeArg == "" || *keysDir == "" {
		return flags.Usagef("--store and --keys are required")
	}
	pg := strings.HasPrefix(*storeArg, "postgres://") || strings.HasPrefix(*storeArg, "postgresql://")
	boltPath, isBolt := strings.CutPrefix(*storeArg, "bolt:")
	if !pg && !isBolt {
		return cli.Usagef("--store %q: want bolt:PATH or a postgres:// URL", *storeArg)
	}
	if *dataDir == "" {
		if pg {
			return cli.Usagef("--data is required with a PostgreSQL store")
		}
		*dataDir = filepath.Dir(boltPath)
	}
	cfg := synth.Config{Venues: *venues, People: *people, Days: *days, PerDay: *perDay, Seed: *seed, Now: e.now}
	if err := cfg.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	pk, err := province.Load(*keysDir)
	if err != nil {
		return cli.WithHint(err, "make the keys first: 'anshim keygen --dir %s'", *keysDir)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	keys, err := daykeys.Open(filepath.Join(*dataDir, central.DayKeysFile), pk.KEK()[:],
		daykeys.DayOf(e.now())-central.RetentionDays+1)
	if err != nil {
		return err
	}
	var st store.Store
	var bs *boltstore.Store
	if pg {
		if st, err = pgstore.Open(ctx, *storeArg, nil); err != nil {
			return err
		}
	} else {
		if bs, err = boltstore.Open(boltPath, &boltstore.Options{Timeout: 3 * time.Second, NoSync: true}); err != nil {
			return err
		}
		st = bs
	}
	defer st.Close()

	if *nCases < 0 {
		return cli.Usagef("--cases %d: want 0 or more", *nCases)
	}
	p, err := synth.New(cfg)
	if err != nil {
		return err
	}
	if p.First() < keys.Oldest() {
		return cli.WithHint(fmt.Errorf("the day key of %s is destroyed (the oldest live day is %s)", p.First(), keys.Oldest()),
			"ask for fewer --days")
	}
	fmt.Fprintf(stderr, "synth: %d venues, %d people, %d days × %d check-ins from %s (seed %d)\n",
		cfg.Venues, cfg.People, cfg.Days, cfg.PerDay, p.First(), cfg.Seed)
	last := time.Time{}
	p.SetProgress(func(pr synth.Progress) {
		if time.Since(last) < 2*time.Second && pr.Done < pr.Total {
			return
		}
		last = time.Now()
		fmt.Fprintf(stderr, "synth: %d / %d check-ins (%.1f%%), %.0f/s, ETA %s\n",
			pr.Done, pr.Total, 100*float64(pr.Done)/float64(max(pr.Total, 1)), pr.Rate(), pr.ETA().Round(time.Second))
	})
	regStart := time.Now()
	var cases []synth.Case
	if *nCases > 0 {
		v, err := vault.New(st, pk.KEK(), pk.Signer(), &vault.Options{Now: e.now})
		if err != nil {
			return err
		}
		cases = p.PickCases(*nCases)
		if err := p.RegisterCases(ctx, v, cases); err != nil {
			return err
		}
	}
	stats, err := p.Load(ctx, st, keys)
	if err != nil {
		return err
	}
	if bs != nil {
		if err := bs.Sync(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "synth: stored %d venues and kiosks, %d check-ins (%d entries, %d exits) of %d residents and %d tourists, %s to %s\n",
		stats.Venues, stats.CheckIns, stats.Entries, stats.Exits, stats.People, stats.Tourists,
		stats.First, stats.First+daykeys.Day(len(stats.PerDay)-1))
	fmt.Fprintf(stdout, "synth: check-ins in %s (%.0f/s); %s in all\n", stats.Elapsed.Round(time.Millisecond),
		float64(stats.CheckIns)/max(stats.Elapsed.Seconds(), 1e-9), time.Since(regStart).Round(time.Millisecond))
	printCases(stdout, cases, *centralURL, filepath.Join(*dataDir, central.InvestigatorTokenFile))
	return nil
}

// printCases prints a trace command line for each case.
func printCases(w io.Writer, cases []synth.Case, centralURL, tokenFile string) {
	if len(cases) == 0 {
		return
	}
	fmt.Fprintf(w, "synth: %d residents registered to trace (start the central on this store and data directory first):\n", len(cases))
	for _, c := range cases {
		fmt.Fprintf(w, "try: anshim trace --central %s --token-file %s --phone %s --onset %s   # %d check-ins at %d venues since %s\n",
			centralURL, tokenFile, c.Phone, c.Onset, c.Entries, c.Venues, c.Onset-2)
	}
}
