package central

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/sync/wire"
)

// The device fleet: the kiosks' status reports (wire.DeviceStatus on
// anshim.status.<device>), the latest of each device kept in the store
// (store.DeviceStatuses, so a restart keeps them) and in memory, for the
// administration's fleet page; and the decommissioning of a kiosk.

// AuditDeviceDecommissioned is the kind of the audit event of a kiosk
// decommissioned: its detail names the device and its venue. A central
// that starts leaves out the NATS users of the devices it names.
const AuditDeviceDecommissioned = "device-decommissioned"

// fleetReport is a status report as the central keeps it.
type fleetReport struct {
	wire.DeviceStatus
	Received time.Time // by the central's clock
}

// fleetReports holds the latest report of each device. The zero value is
// ready.
type fleetReports struct {
	mu sync.Mutex
	m  map[string]fleetReport
}

func (f *fleetReports) put(device string, r fleetReport) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = make(map[string]fleetReport)
	}
	f.m[device] = r
}

func (f *fleetReports) get(device string) (fleetReport, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.m[device]
	return r, ok
}

// fleetReport keeps a kiosk's status report, in memory and in the store
// (a failure to store it is logged: the next report, minutes later, comes
// again). The device is the subject's, which the device's NATS
// permissions hold to its own; a report that does not parse is logged and
// dropped.
func (s *Server) fleetReport(m *nats.Msg) {
	device, ok := wire.ParseStatusSubject(m.Subject)
	if !ok {
		return
	}
	st, err := wire.ParseDeviceStatus(m.Data)
	if err != nil {
		s.log.Warn("device status report refused", "device", device, "err", err)
		return
	}
	r := fleetReport{DeviceStatus: st, Received: s.now().UTC()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.store.PutDeviceStatus(ctx, store.DeviceStatus{Device: device, Received: r.Received, Report: m.Data}); err != nil {
		s.log.Warn("device status report not stored", "device", device, "err", err)
	}
	s.fleet.put(device, r) // after the store: what is in memory is stored
}

// fleetStored returns the latest status report of each device as the
// store keeps it; a stored report that no longer parses is left out.
func (s *Server) fleetStored(ctx context.Context) (map[string]fleetReport, error) {
	list, err := s.store.DeviceStatuses(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	out := make(map[string]fleetReport, len(list))
	for _, d := range list {
		st, err := wire.ParseDeviceStatus(d.Report)
		if err != nil {
			s.log.Warn("stored device status does not parse", "device", d.Device, "err", err)
			continue
		}
		out[d.Device] = fleetReport{DeviceStatus: st, Received: d.Received}
	}
	return out, nil
}

// decommissioned returns the devices that audit events say were
// decommissioned.
func (s *Server) decommissioned(ctx context.Context) (map[string]bool, error) {
	at, err := s.decommissionedAt(ctx)
	out := make(map[string]bool, len(at))
	for d := range at {
		out[d] = true
	}
	return out, err
}

// decommissionedAt returns when each decommissioned device was
// decommissioned, from the audit trail.
func (s *Server) decommissionedAt(ctx context.Context) (map[string]time.Time, error) {
	events, err := s.store.Audit(ctx)
	if err != nil {
		return nil, fmt.Errorf("decommissioned devices: %w", err)
	}
	out := map[string]time.Time{}
	for _, e := range events {
		if e.Kind != AuditDeviceDecommissioned {
			continue
		}
		var d struct {
			Device string `json:"device"`
		}
		if json.Unmarshal([]byte(e.Detail), &d) == nil && d.Device != "" {
			if _, ok := out[d.Device]; !ok {
				out[d.Device] = e.Time
			}
		}
	}
	return out, nil
}

// Decommission ends a kiosk: its NATS user is removed (from the embedded
// server at once, from DATA/nats-devices.conf for an external cluster)
// and an audit event, a ledger leaf, records who did it and why, which
// also keeps the user out after a restart. The kiosk's stored check-ins
// stay. Decommissioning it again changes nothing. store.ErrNotFound for a
// device that is not enrolled.
func (s *Server) Decommission(ctx context.Context, id, reason string) error {
	d, err := s.store.Device(ctx, id)
	if err != nil {
		return err
	}
	s.usersMu.Lock()
	_, active := s.users[id]
	delete(s.users, id)
	s.usersMu.Unlock()
	gone, err := s.decommissioned(ctx)
	if err != nil {
		return err
	}
	if !active && gone[id] {
		return nil
	}
	if err := s.applyUsers(); err != nil {
		return fmt.Errorf("decommission %s: %w", id, err)
	}
	if s.nats != nil {
		s.nats.disconnect(d.NKey)
	}
	b, _ := json.Marshal(map[string]any{"device": id, "venue": d.Venue})
	e := store.AuditEvent{Time: s.now().UTC(), Kind: AuditDeviceDecommissioned, Who: accountOf(ctx).Name, Detail: string(b), Reason: reason}
	if _, err := s.store.AddAudit(ctx, e); err != nil {
		return fmt.Errorf("decommission %s: the NATS user is removed but the audit event is not stored (decommission it again): %w", id, err)
	}
	s.log.Info("device decommissioned", "device", id, "venue", d.Venue, "by", accountOf(ctx).Name)
	return nil
}

// disconnect closes the open connections of the NATS user nkey (a
// device's), which removing the user alone leaves open.
func (e *embeddedNATS) disconnect(nkey string) {
	e.mu.Lock()
	ns := e.ns
	e.mu.Unlock()
	if ns == nil {
		return
	}
	for offset := 0; ; {
		cz, err := ns.Connz(&server.ConnzOptions{Username: true, Offset: offset, Limit: 1024})
		if err != nil || len(cz.Conns) == 0 {
			return
		}
		for _, c := range cz.Conns {
			if c.AuthorizedUser == nkey {
				ns.DisconnectClientByID(c.Cid)
			}
		}
		offset += len(cz.Conns)
	}
}
