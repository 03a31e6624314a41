package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/anshim/anshim/sync/uplink"
)

// DefaultStatusListen is where the kiosk serves its status page and
// metrics: the device itself only.
const DefaultStatusListen = "127.0.0.1:8081"

// Status is what the kiosk's status page says.
type Status struct {
	Device     string         `json:"device"`
	Venue      string         `json:"venue"`
	Pending    int            `json:"pending"`
	OutOfOrder bool           `json:"out_of_order"`
	Sync       *uplink.Status `json:"sync"` // nil: not enrolled, offline by design
}

// statusFunc reports the kiosk's status now.
type statusFunc func() Status

// statusHandler serves /status (JSON) and /metrics (Prometheus text): the
// outbox backlog, out-of-order state, sync state, receipts, and the ledger
// alert (a fork caught by this kiosk as a witness).
func statusHandler(now statusFunc) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(now())
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		writeMetrics(w, now())
	})
	return mux
}

// b01 is 1 for true.
func b01(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// kioskGauges are the kiosk's own metrics of a status: name, help, value.
// writeMetrics (metrics.go, or metrics_promclient.go with the build tag
// kiosk_promclient) exports them with the process's metrics.
func kioskGauges(st Status) []struct {
	name, help string
	v          float64
} {
	var sync uplink.Status
	if st.Sync != nil {
		sync = *st.Sync
	}
	return []struct {
		name, help string
		v          float64
	}{
		{"anshim_kiosk_pending_records", "Check-ins waiting in the outbox.", float64(st.Pending)},
		{"anshim_kiosk_out_of_order", "1 while the outbox cannot commit (full disk, broken storage).", b01(st.OutOfOrder)},
		{"anshim_kiosk_sync_enabled", "1 when the kiosk is enrolled to sync.", b01(st.Sync != nil)},
		{"anshim_kiosk_sync_connected", "1 while connected to NATS.", b01(sync.Connected)},
		{"anshim_kiosk_ledger_receipts_total", "Ledger receipts verified and kept this run.", float64(sync.Receipts)},
		{"anshim_kiosk_ledger_alert", "1 once the kiosk caught the central's ledger in a fork.", b01(sync.LedgerAlert)},
	}
}

// serveStatus serves the status page on addr until ctx is done.
func serveStatus(ctx context.Context, addr string, now statusFunc, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status page: %w (set status_listen to another address, or \"off\")", err)
	}
	srv := &http.Server{Handler: statusHandler(now), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("status page", "url", "http://"+ln.Addr().String()+"/status")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
