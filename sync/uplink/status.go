package uplink

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// reportStatus publishes the kiosk's [wire.DeviceStatus] on its status
// subject at each (re)connect and every wire.StatusEvery while connected,
// until ctx is done. A report that cannot be made or sent is logged and
// skipped: the next one says the same, newer.
func (u *Uplink) reportStatus(ctx context.Context, nc *nats.Conn) {
	subject := wire.StatusSubject(u.cfg.Device)
	for {
		if !u.waitConnected(ctx, nc) {
			return
		}
		reconnected := u.reconnected()
		if data, err := u.DeviceStatus().Marshal(); err != nil {
			u.setErr("status report", err)
		} else if err := nc.Publish(subject, data); err != nil {
			u.setErr("status report", err)
		}
		t := time.NewTimer(wire.StatusEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-reconnected:
		case <-t.C:
		}
		t.Stop()
	}
}

// DeviceStatus returns the status report the uplink would send now: the
// outbox backlog and the wall time of its oldest record, the clock's
// quality, the witness's ledger alert and the software version.
func (u *Uplink) DeviceStatus() wire.DeviceStatus {
	now := u.cfg.Clock()
	st := wire.DeviceStatus{V: wire.StatusVersion, Sent: now.Wall, Clock: now.Quality.String(), Version: softwareVersion()}
	if now.Quality != checkin.NTPSynced && now.Quality != checkin.RTC {
		st.Clock = checkin.Unsynced.String()
	}
	ob := u.cfg.Outbox
	if so, ok := ob.(*sentOutbox); ok {
		ob = so.Outbox // reading the oldest record is no sending
	}
	if n, err := ob.Pending(); err == nil {
		st.Backlog = n
	}
	if st.Backlog > 0 {
		if t, err := oldestRecord(ob); err == nil {
			st.OldestUnsynced = t
		} else {
			u.log.Debug("status report without the oldest record's time", "err", err)
		}
	}
	if u.cfg.Witness != nil {
		st.LedgerAlert = u.cfg.Witness.Alert()
	}
	return st
}

// recordScanner is an outbox that can be read without sending:
// *kiosk.Outbox.
type recordScanner interface {
	Scan(from uint64, fn func(seq uint64, canonical []byte) bool) error
}

// oldestRecord returns the wall time of the oldest record in ob, when ob
// can be scanned (zero time otherwise).
func oldestRecord(ob Outbox) (time.Time, error) {
	sc, ok := ob.(recordScanner)
	if !ok {
		return time.Time{}, nil
	}
	var first []byte
	err := sc.Scan(0, func(_ uint64, canonical []byte) bool {
		first = append([]byte(nil), canonical...)
		return false
	})
	if err != nil || first == nil {
		return time.Time{}, fmt.Errorf("oldest record: %v", err)
	}
	r, err := checkin.Decode(first)
	if err != nil {
		return time.Time{}, fmt.Errorf("oldest record: %w", err)
	}
	return r.Wall, nil
}

// softwareVersion is the main module's version from the build ("devel"
// for a build outside a release).
func softwareVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v := bi.Main.Version
		if len(v) > 64 {
			v = v[:64]
		}
		return v
	}
	return "devel"
}
