package central

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/sync/wire"
)

// Ensure that a kiosk's status report reaches the fleet (backlog, oldest
// unsynced, clock, version, last seen by the central's clock), that a
// report on another device's subject is refused by its permissions, and
// that decommissioning the kiosk closes its connection, refuses a new
// one, is an audit event, and keeps it out after a restart.
func TestFleet_Report_Decommission(t *testing.T) {
	ts := startServer(t)
	ctx := withAccount(context.Background(), Account{Name: "lee.admin", Role: "admin"})
	k := ts.enroll(t, "v-fleet-1")
	other := ts.enroll(t, "v-fleet-2")
	nc, errs := k.connect(t, ts.NATSURL(), nats.MaxReconnects(0))
	st := wire.DeviceStatus{V: wire.StatusVersion, Sent: ts.clock.Now(), Clock: "unsynced", Backlog: 1500,
		OldestUnsynced: ts.clock.Now().Add(-30 * time.Hour), Version: "test-1"}
	data, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(wire.StatusSubject(k.enr.Device), data); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(wire.StatusSubject(other.enr.Device), data); err != nil {
		t.Fatal(err)
	}
	errs.waitFor(t, "Permissions Violation for Publish to \""+wire.StatusSubject(other.enr.Device))
	admin := webAdmin{ts.Server}
	var got fleetReport
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, ok := ts.fleet.get(k.enr.Device)
		if ok {
			got = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the status report never reached the fleet")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.Backlog != 1500 || got.Clock != "unsynced" || got.Version != "test-1" || !got.Received.Equal(ts.clock.Now().UTC()) {
		t.Fatalf("report kept = %+v", got)
	}
	if _, ok := ts.fleet.get(other.enr.Device); ok {
		t.Fatal("a report on another device's subject was kept")
	}
	fleet, err := admin.Fleet(ctx)
	if err != nil || len(fleet) != 2 {
		t.Fatalf("Fleet = %+v, %v", fleet, err)
	}
	for _, d := range fleet {
		why := d.Attention(ts.clock.Now())
		switch d.ID {
		case k.enr.Device:
			if d.Backlog != 1500 || len(why) != 3 { // backlog, oldest, clock
				t.Errorf("reporting kiosk: %+v needs %q", d, why)
			}
		case other.enr.Device:
			if len(why) != 1 || why[0] != "admin.fleet.attn.unseen" {
				t.Errorf("silent kiosk needs %q", why)
			}
		}
	}

	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := admin.Decommission(ctx, "lee.admin", k.enr.Device, "stolen from the counter"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the decommissioned kiosk's connection stayed open")
	}
	pub, _ := k.nkey.PublicKey()
	if c, err := nats.Connect(ts.NATSURL(), nats.Nkey(pub, k.nkey.Sign), nats.MaxReconnects(0)); err == nil {
		c.Close()
		t.Fatal("the decommissioned kiosk connected again")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("reconnect: %v, want an authorization error", err)
	}
	events, err := ts.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Kind == AuditDeviceDecommissioned {
			n++
			if e.Who != "lee.admin" || e.Reason != "stolen from the counter" || !strings.Contains(e.Detail, k.enr.Device) {
				t.Errorf("audit event %+v", e)
			}
		}
	}
	if err := admin.Decommission(ctx, "lee.admin", k.enr.Device, "again"); err != nil || n != 1 {
		t.Fatalf("decommission again: %v; %d events before", err, n)
	}
	if err := admin.Decommission(ctx, "lee.admin", "k-none", "x"); err == nil || !isNotFound(err) {
		t.Fatalf("decommission of an unknown kiosk: %v", err)
	}
	gone, err := ts.decommissioned(ctx)
	if err != nil || !gone[k.enr.Device] || gone[other.enr.Device] {
		t.Fatalf("decommissioned after restart would be %v, %v", gone, err)
	}
}

func isNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), store.ErrNotFound.Error())
}

// Ensure that a kiosk's latest status report survives a restart of the
// central: the fleet reads it from the store.
func TestFleet_ReportSurvivesRestart(t *testing.T) {
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	ts := startServerWith(t, cfg, keys, clock)
	k := ts.enroll(t, "v-fleet-1")
	nc, _ := k.connect(t, ts.NATSURL(), nats.MaxReconnects(0))
	data, err := wire.DeviceStatus{V: wire.StatusVersion, Sent: clock.Now(), Clock: "rtc", Backlog: 42, Version: "test-2"}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(wire.StatusSubject(k.enr.Device), data); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := ts.fleet.get(k.enr.Device); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the status report never reached the fleet")
		}
	}
	received := clock.Now().UTC()
	nc.Close()
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	ts = startServerWith(t, cfg, keys, clock)
	if _, ok := ts.fleet.get(k.enr.Device); ok {
		t.Fatal("a report in memory before any arrived: the test restarts nothing")
	}
	fleet, err := webAdmin{ts.Server}.Fleet(context.Background())
	if err != nil || len(fleet) != 1 {
		t.Fatalf("Fleet after restart = %+v, %v", fleet, err)
	}
	if d := fleet[0]; d.Backlog != 42 || d.Clock != "rtc" || d.Version != "test-2" || !d.LastSeen.Equal(received) {
		t.Fatalf("after restart the fleet shows %+v, want the report received at %v", d, received)
	}
}
