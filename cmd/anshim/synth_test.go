package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/province"
)

// Ensure that "anshim synth" at 09:25 KST stores no check-in after 09:25,
// and prints trace command lines whose phone numbers are registered in
// the vault with the check-ins it claims in the trace window of the onset.
func TestSynth(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 9, 25, 0, 0, daykeys.KST)
	e := testEnv(now, "")
	dir := t.TempDir()
	keysDir, dataDir := filepath.Join(dir, "keys"), filepath.Join(dir, "data")
	e.mustRun(t, "keygen", "--dir", keysDir, "--province", "jeju")
	out := e.mustRun(t, "synth", "--venues", "60", "--people", "600", "--days", "4", "--per-day", "2000", "--seed", "9",
		"--store", "bolt:"+filepath.Join(dataDir, "central.db"), "--keys", keysDir, "--cases", "4")

	tokenFile := filepath.Join(dataDir, central.InvestigatorTokenFile)
	re := regexp.MustCompile(`(?m)^try: anshim trace --central http://127\.0\.0\.1:8440 --token-file (\S+) --phone (010-\d{4}-\d{4}) --onset (\d{4}-\d\d-\d\d)   # (\d+) check-ins at (\d+) venues since (\S+)$`)
	tries := re.FindAllStringSubmatch(out, -1)
	if len(tries) != 4 || !strings.Contains(out, "synth: 4 residents registered to trace") {
		t.Fatalf("want 4 trace command lines:\n%s", out)
	}

	st, err := boltstore.Open(filepath.Join(dataDir, "central.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pk, err := province.Load(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(st, pk.KEK(), pk.Signer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := daykeys.Open(filepath.Join(dataDir, central.DayKeysFile), pk.KEK()[:], daykeys.DayOf(now)-central.RetentionDays+1)
	if err != nil {
		t.Fatal(err)
	}
	today := daykeys.DayOf(now)
	for _, m := range tries {
		phone, onset := m[2], m[3]
		if m[1] != tokenFile || onset != (today-1).String() || m[6] != (today-3).String() {
			t.Errorf("%s: token file %s, onset %s, since %s", phone, m[1], onset, m[6])
		}
		per, err := v.Lookup(ctx, phone)
		if err != nil {
			t.Errorf("%s is not registered: %v", phone, err)
			continue
		}
		entries, venues := 0, map[string]bool{}
		for d := today - 3; d <= today; d++ {
			tag, err := keys.Tag(d, per.Pseudonym)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := st.CheckInsByTag(ctx, d.Start(), tag)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Kind == checkin.Entry {
					entries++
					venues[c.Venue] = true
				}
			}
		}
		wantEntries, _ := strconv.Atoi(m[4])
		wantVenues, _ := strconv.Atoi(m[5])
		if entries < 3 || entries != wantEntries || len(venues) != wantVenues {
			t.Errorf("%s: %d check-ins at %d venues in the window, printed %s at %s", phone, entries, len(venues), m[4], m[5])
		}
	}

	// Nothing after now, and today has some (before 09:25).
	vs, err := st.Venues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	todays := 0
	for _, ven := range vs {
		err := st.CheckIns(ctx, "k-"+ven.ID, 1, func(c store.CheckIn) bool {
			if c.Time.After(now) || c.Received.After(now) {
				t.Errorf("%s/%d at %s: after now (%s)", c.Device, c.Seq, c.Time.In(daykeys.KST), now)
			}
			if daykeys.DayOf(c.Time) == today {
				todays++
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if todays == 0 {
		t.Error("no check-ins today before 09:25")
	}
}
