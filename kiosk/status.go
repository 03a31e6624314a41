package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

func writeMetrics(w io.Writer, st Status) {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	var sync uplink.Status
	if st.Sync != nil {
		sync = *st.Sync
	}
	for _, m := range []struct {
		name, help string
		v          any
	}{
		{"anshim_kiosk_pending_records", "Check-ins waiting in the outbox.", st.Pending},
		{"anshim_kiosk_out_of_order", "1 while the outbox cannot commit (full disk, broken storage).", b(st.OutOfOrder)},
		{"anshim_kiosk_sync_enabled", "1 when the kiosk is enrolled to sync.", b(st.Sync != nil)},
		{"anshim_kiosk_sync_connected", "1 while connected to NATS.", b(sync.Connected)},
		{"anshim_kiosk_ledger_receipts_total", "Ledger receipts verified and kept this run.", sync.Receipts},
		{"anshim_kiosk_ledger_alert", "1 once the kiosk caught the central's ledger in a fork.", b(sync.LedgerAlert)},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %v\n", m.name, m.help, m.name, m.name, m.v)
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
