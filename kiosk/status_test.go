package kiosk

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
	"github.com/anshim/anshim/sync/uplink"
)

// Ensure that the status page and metrics report the backlog, the sync
// state and a ledger alert.
func TestStatusHandler(t *testing.T) {
	st := Status{Device: "k-1", Venue: "v-1", Pending: 7, Sync: &uplink.Status{Connected: true, Receipts: 3, LedgerAlert: true}}
	srv := httptest.NewServer(statusHandler(func() Status { return st }))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var got Status
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.Pending != 7 || got.Sync == nil || !got.Sync.LedgerAlert {
		t.Fatalf("status %+v", got)
	}
	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"anshim_kiosk_ledger_alert 1", "anshim_kiosk_pending_records 7", "anshim_kiosk_ledger_receipts_total 3", "anshim_kiosk_sync_connected 1",
		"process_resident_memory_bytes ", "go_goroutines "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q:\n%s", want, b)
		}
	}
	// A strict parser of the exposition format reads it whole.
	p := expfmt.NewTextParser(model.LegacyValidation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(string(b))); err != nil {
		t.Errorf("metrics do not parse: %v\n%s", err, b)
	}
}

// Ensure that a running kiosk serves its status page: an offline kiosk
// reports its backlog and no sync.
func TestRun_StatusPage(t *testing.T) {
	e := newEnv(t)
	text, _ := e.issue()
	e.scan(text)
	e.close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	fake := scannertest.New("test")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Data: e.dir, StatusListen: addr, Feedback: "none"}, Env{Scanners: []scanner.Scanner{fake}, Clock: e.clock})
	}()
	defer func() { cancel(); <-done }()
	var st Status
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/status")
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no status page")
		}
	}
	if st.Device != e.dev.ID || st.Pending != 1 || st.Sync != nil || st.OutOfOrder {
		t.Fatalf("status %+v", st)
	}
}
