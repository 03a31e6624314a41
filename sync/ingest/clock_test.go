package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// Ensure that correct keeps trusted wall clocks, corrects unsynced records
// from a known boot start, and leaves the rest raw.
func TestCorrect(t *testing.T) {
	start := truth.Add(-3 * time.Hour)
	wall := time.Unix(600, 0).UTC() // 1970
	tests := []struct {
		name    string
		quality checkin.TimeQuality
		mono    time.Duration
		known   bool
		want    time.Time
		ok      bool
	}{
		{"ntp-synced keeps wall", checkin.NTPSynced, 10 * time.Minute, true, wall, true},
		{"rtc keeps wall", checkin.RTC, 10 * time.Minute, false, wall, true},
		{"unsynced, boot known", checkin.Unsynced, 10 * time.Minute, true, start.Add(10 * time.Minute), true},
		{"unsynced, boot unknown", checkin.Unsynced, 10 * time.Minute, false, wall, false},
		{"unsynced, negative mono", checkin.Unsynced, -time.Second, true, wall, false},
	}
	for _, tt := range tests {
		r := &checkin.Record{Wall: wall, Quality: tt.quality, Mono: tt.mono}
		got, ok := correct(r, start, tt.known)
		if !got.Equal(tt.want) || ok != tt.ok {
			t.Errorf("%s: correct = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// Ensure that a batch's send stamp gives its boot's start, unless the
// stamp cannot be trusted to.
func TestBootStart(t *testing.T) {
	tests := []struct {
		name string
		sent wire.Stamp
		at   time.Time
		want time.Time
		ok   bool
	}{
		{"normal", wire.Stamp{Boot: bootA, Mono: time.Hour}, truth, truth.Add(-time.Hour), true},
		{"just booted", wire.Stamp{Boot: bootA}, truth, truth, true},
		{"no boot id", wire.Stamp{Mono: time.Hour}, truth, time.Time{}, false},
		{"negative mono", wire.Stamp{Boot: bootA, Mono: -1}, truth, time.Time{}, false},
		{"no timestamp", wire.Stamp{Boot: bootA, Mono: time.Hour}, time.Time{}, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := bootStart(tt.sent, tt.at)
		if !got.Equal(tt.want) || ok != tt.ok {
			t.Errorf("%s: bootStart = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// sentBatch is one batch of a clock scenario: the kiosk's records (by
// seq) sent at the kiosk's stamp, reaching the stream at true time at.
type sentBatch struct {
	first, last uint64
	sent        wire.Stamp
	at          time.Time
}

// Ensure that Handle corrects the times of unsynced records end to end, as
// docs/sync.md says, within 2 s of the truth.
func TestHandle_ClockCorrection(t *testing.T) {
	const transit = 150 * time.Millisecond
	epoch := time.Unix(0, 0).UTC()
	startA := truth.Add(-2 * time.Hour) // boot A, without an RTC: its clock says 1970
	startB := truth.Add(-20 * time.Minute)
	unsynced := func(boot [16]byte, mono time.Duration) checkin.Record {
		return checkin.Record{Quality: checkin.Unsynced, Boot: boot, Mono: mono, Wall: epoch.Add(mono)}
	}
	tests := []struct {
		name    string
		records []checkin.Record
		batches []sentBatch
		// want[i] is the true time of record i+1; zero: uncorrected, raw.
		want       []time.Time
		wantStartA time.Time // stored start of boot A, if any
	}{
		{
			name: "kiosk booted at 1970",
			records: []checkin.Record{
				unsynced(bootA, 10*time.Minute), unsynced(bootA, 50*time.Minute), unsynced(bootA, 90*time.Minute),
			},
			batches:    []sentBatch{{1, 3, wire.Stamp{Wall: epoch.Add(2 * time.Hour), Quality: checkin.Unsynced, Boot: bootA, Mono: 2 * time.Hour}, truth.Add(transit)}},
			want:       []time.Time{startA.Add(10 * time.Minute), startA.Add(50 * time.Minute), startA.Add(90 * time.Minute)},
			wantStartA: startA,
		},
		{
			name: "records of an earlier boot, sent after a reboot",
			records: []checkin.Record{
				unsynced(bootA, 10*time.Minute), // sent from boot A
				unsynced(bootA, 95*time.Minute), // taken just before the reboot
				unsynced(bootB, 5*time.Minute),  // after it, still without NTP
			},
			batches: []sentBatch{
				{1, 1, wire.Stamp{Wall: epoch.Add(90 * time.Minute), Quality: checkin.Unsynced, Boot: bootA, Mono: 90 * time.Minute}, startA.Add(90*time.Minute + transit)},
				{2, 3, wire.Stamp{Wall: epoch.Add(20 * time.Minute), Quality: checkin.Unsynced, Boot: bootB, Mono: 20 * time.Minute}, truth.Add(transit)},
			},
			want:       []time.Time{startA.Add(10 * time.Minute), startA.Add(95 * time.Minute), startB.Add(5 * time.Minute)},
			wantStartA: startA,
		},
		{
			name: "record of a boot never seen stays raw",
			records: []checkin.Record{
				unsynced(bootC, 7*time.Minute),
				unsynced(bootB, 8*time.Minute),
			},
			batches: []sentBatch{{1, 2, wire.Stamp{Wall: truth, Quality: checkin.NTPSynced, Boot: bootB, Mono: 20 * time.Minute}, truth.Add(transit)}},
			want:    []time.Time{{}, startB.Add(8 * time.Minute)},
		},
		{
			name: "synced records keep their wall time",
			records: []checkin.Record{
				{Quality: checkin.NTPSynced, Boot: bootA, Mono: time.Minute, Wall: truth.Add(-time.Hour)},
				{Quality: checkin.RTC, Boot: bootC, Mono: time.Minute, Wall: truth.Add(-time.Hour + time.Second)},
			},
			batches:    []sentBatch{{1, 2, wire.Stamp{Wall: epoch, Quality: checkin.Unsynced, Boot: bootA, Mono: 2 * time.Hour}, truth}},
			want:       []time.Time{truth.Add(-time.Hour), truth.Add(-time.Hour + time.Second)},
			wantStartA: startA,
		},
		{
			name: "the earliest estimate of a boot's start wins",
			records: []checkin.Record{
				unsynced(bootA, 10*time.Minute), unsynced(bootA, 20*time.Minute), unsynced(bootA, 30*time.Minute),
			},
			batches: []sentBatch{
				// Sent and stored 40 s later (the kiosk re-sent an old encoding).
				{1, 1, wire.Stamp{Boot: bootA, Quality: checkin.Unsynced, Mono: 15 * time.Minute}, startA.Add(15*time.Minute + 40*time.Second)},
				{2, 2, wire.Stamp{Boot: bootA, Quality: checkin.Unsynced, Mono: 25 * time.Minute}, startA.Add(25*time.Minute + transit)},
				{3, 3, wire.Stamp{Boot: bootA, Quality: checkin.Unsynced, Mono: 35 * time.Minute}, startA.Add(35*time.Minute + 30*time.Second)},
			},
			// Record 1 was corrected with the late estimate alone.
			want:       []time.Time{startA.Add(10*time.Minute + 40*time.Second), startA.Add(20 * time.Minute), startA.Add(30 * time.Minute)},
			wantStartA: startA,
		},
		{
			name:    "record taken after the batch was sent stays raw",
			records: []checkin.Record{unsynced(bootA, 3*time.Hour)},
			batches: []sentBatch{{1, 1, wire.Stamp{Boot: bootA, Quality: checkin.Unsynced, Mono: 2 * time.Hour}, truth}},
			want:    []time.Time{{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1"))
			for _, r := range tt.records {
				k.add(r)
			}
			ctx := context.Background()
			uncorrected := 0
			for _, b := range tt.batches {
				res, err := f.in.Handle(ctx, wire.CheckInSubject("v-1", "k-1"), encode(t, k.batch(b.first, b.last, b.sent)), b.at)
				if err != nil || res.Quarantined != "" || res.Break != "" {
					t.Fatalf("Handle %d-%d = %+v, %v", b.first, b.last, res, err)
				}
				uncorrected += res.Uncorrected
			}
			var got []store.CheckIn
			f.store.CheckIns(ctx, "k-1", 0, func(c store.CheckIn) bool { got = append(got, c); return true })
			if len(got) != len(tt.want) {
				t.Fatalf("%d check-ins stored, want %d", len(got), len(tt.want))
			}
			wantUncorrected := 0
			for i, c := range got {
				raw := tt.records[i].Wall
				if !c.RawWall.Equal(raw) {
					t.Errorf("record %d: raw time %v, want the kiosk's %v", c.Seq, c.RawWall, raw)
				}
				if tt.want[i].IsZero() {
					wantUncorrected++
					if c.Flags&store.FlagUncorrected == 0 || !c.Time.Equal(raw) {
						t.Errorf("record %d: time %v flags %b, want raw %v and FlagUncorrected", c.Seq, c.Time, c.Flags, raw)
					}
					continue
				}
				if d := c.Time.Sub(tt.want[i]).Abs(); d > 2*time.Second || c.Flags&store.FlagUncorrected != 0 {
					t.Errorf("record %d: time %v (flags %b), %v from the truth %v", c.Seq, c.Time, c.Flags, d, tt.want[i])
				}
			}
			if uncorrected != wantUncorrected || f.metrics.Uncorrected.Load() != uint64(wantUncorrected) {
				t.Errorf("uncorrected: result %d, metric %d; want %d", uncorrected, f.metrics.Uncorrected.Load(), wantUncorrected)
			}
			if !tt.wantStartA.IsZero() {
				got, ok, err := f.store.BootStart(ctx, "k-1", bootA)
				if err != nil || !ok || got.Sub(tt.wantStartA).Abs() > 2*time.Second {
					t.Errorf("stored start of boot A = %v, %v, %v; want about %v", got, ok, err, tt.wantStartA)
				}
			}
		})
	}
}
