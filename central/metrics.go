package central

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
)

// metrics are the central's own counters.
type metrics struct {
	enrollments    atomic.Uint64
	enrollFailures atomic.Uint64
	revocations    atomic.Uint64
	httpRequests   atomic.Uint64
	httpErrors     atomic.Uint64 // responses with status >= 500
	// receiptsPublished counts ledger receipts published to kiosks.
	receiptsPublished atomic.Uint64
	// ledgerForkAlerts counts fork evidence reported by kiosks.
	ledgerForkAlerts atomic.Uint64

	// kvConsumersRemoved counts consumers of the KV streams the consumer
	// guard removed (consumerguard.go).
	kvConsumersRemoved atomic.Uint64
}

// writeMetrics writes the metrics in the Prometheus text format: the
// central's counters, the store's device totals and ingest's counters.
func (s *Server) writeMetrics(ctx context.Context, w io.Writer) error {
	stats, err := s.Devices(ctx)
	if err != nil {
		return err
	}
	var records, quarantined, breaks uint64
	for _, d := range stats {
		records += d.Records
		quarantined += d.Quarantined
		breaks += d.Breaks
	}
	up := 0
	if s.nc != nil && s.nc.IsConnected() {
		up = 1
	}
	m := s.metrics
	for _, l := range []struct {
		name, kind, help string
		value            uint64
	}{
		{"anshim_central_devices_enrolled", "gauge", "Enrolled kiosks.", uint64(len(stats))},
		{"anshim_central_checkins_stored", "gauge", "Check-ins stored, all devices.", records},
		{"anshim_central_quarantined", "gauge", "Quarantine entries of enrolled devices.", quarantined},
		{"anshim_central_chain_breaks", "gauge", "Sequence gaps and chain breaks seen.", breaks},
		{"anshim_central_nats_connected", "gauge", "1 while the central's NATS connection is up.", uint64(up)},
		{"anshim_central_enrollments_total", "counter", "Successful enrollments since start.", m.enrollments.Load()},
		{"anshim_central_enroll_failures_total", "counter", "Refused or failed enrollments since start.", m.enrollFailures.Load()},
		{"anshim_central_revocations_total", "counter", "Passes revoked since start.", m.revocations.Load()},
		{"anshim_central_http_requests_total", "counter", "HTTP requests since start.", m.httpRequests.Load()},
		{"anshim_central_http_errors_total", "counter", "HTTP responses with a 5xx status since start.", m.httpErrors.Load()},
		{"anshim_central_ledger_receipts_published_total", "counter", "Ledger receipts published to kiosks since start.", m.receiptsPublished.Load()},
		{"anshim_central_ledger_fork_alerts_total", "counter", "Ledger fork evidence reported by kiosks since start.", m.ledgerForkAlerts.Load()},
		{"anshim_central_kv_consumers_removed_total", "counter", "Consumers of the KV streams removed by the consumer guard since start (not the shape of a kiosk watch).", m.kvConsumersRemoved.Load()},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", l.name, l.help, l.name, l.kind, l.name, l.value)
	}
	return s.writeIngestMetrics(w)
}
