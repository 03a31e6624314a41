package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store/pgstore/pgtest"
)

// Ensure that a short scripted day — outage, killed kiosk, a kiosk at 1970
// — ends with every accepted check-in stored exactly once, with the 1970
// kiosk's times corrected to within 2 seconds.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("NOT RUN in -short: the demo runs a central and 5 kiosks for ~15 s")
	}
	testDemo(t, Options{Kiosks: 5, Day: 8 * time.Second, Dir: t.TempDir()})
}

// Ensure that the same day ends the same way with the central on
// PostgreSQL.
func TestDemo_Postgres(t *testing.T) {
	if testing.Short() {
		t.Skip("NOT RUN in -short: the demo runs a central and 3 kiosks for ~10 s")
	}
	testDemo(t, Options{Kiosks: 3, Day: 6 * time.Second, Dir: t.TempDir(), Store: pgtest.NewDatabase(t)})
}

func testDemo(t *testing.T, o Options) {
	var out bytes.Buffer
	o.Out = &out
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	tot := rep.Totals()
	if tot.Accepted < 20 || tot.Lost != 0 || tot.Duplicates != 0 || tot.Stored != tot.Accepted || tot.Rejected == 0 || tot.Already == 0 {
		t.Fatalf("totals %+v\n%s", tot, out.String())
	}
	if e := rep.Rows[2].ClockError; e > 2*time.Second || rep.Rows[2].Accepted == 0 {
		t.Fatalf("1970 kiosk: clock error %v over %d check-ins", e, rep.Rows[2].Accepted)
	}
	for _, want := range []string{"network outage", "kiosk 02 killed", "at central", "0 lost, 0 duplicates"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
