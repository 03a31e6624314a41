// Package display is a kiosk's display mode: a full-screen local web page,
// for a kiosk-mode browser on the device, that shows the venue's rotating
// signed code (see venuecode) as a QR code and changes it every period.
// The visitor's app scans it and checks in online at the central.
//
// # Pages
//
//	GET /           the full-screen page (Korean and English), the QR code
//	                inline; a small script fetches /code.json and redraws
//	                when the period ends
//	GET /code.json  {"mode","code","qr_svg","period","period_seconds",
//	                 "expires","reason","message_ko","message_en"}
//
// # Clock
//
// A code is only as good as the kiosk's clock: a kiosk whose wall clock is
// not trustworthy (not NTP-synced, no RTC, not corrected at its last sync)
// would show codes of the wrong period, which the central refuses. So it
// shows none: the page says the kiosk is in reader mode only, and
// /code.json has mode "reader" and reason "clock-untrusted".
package display

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/anshim/anshim/venuecode"
)

// Defaults.
const (
	DefaultListen = "127.0.0.1:8080"
	DefaultPeriod = 30 * time.Second
)

// Clock tells the display the time and whether it can be trusted
// (kiosk.Stamp.Trusted).
type Clock func() (now time.Time, trusted bool)

// Config configures a Display. Device, Venue, Key and Clock are required.
type Config struct {
	Device string
	Venue  string
	Key    ed25519.PrivateKey
	Clock  Clock
	// Period is how long one code is shown (default 30 s; whole seconds,
	// at most an hour).
	Period time.Duration
	// Name is the venue's name shown on the page (default the venue id).
	Name string
	// Log receives errors (default slog.Default()).
	Log *slog.Logger
}

// Display serves the display-mode page. It is safe for concurrent use.
type Display struct {
	cfg Config

	mu     sync.Mutex
	cached State // the state of the last period asked for
}

// State is what /code.json answers.
type State struct {
	// Mode is "display" (a code is shown) or "reader" (no code).
	Mode string `json:"mode"`
	// Code is the display code text; QRSVG is its QR code as an SVG image.
	Code  string `json:"code,omitempty"`
	QRSVG string `json:"qr_svg,omitempty"`
	// Period is the code's period number, PeriodSeconds its length.
	Period        uint64 `json:"period,omitempty"`
	PeriodSeconds int    `json:"period_seconds"`
	// Expires is when the code changes; RefreshMS is how long from now
	// that is (the page's timer, so that a wrong browser clock does not
	// matter).
	Expires   time.Time `json:"expires,omitzero"`
	RefreshMS int64     `json:"refresh_ms"`
	// Reason says why there is no code: "clock-untrusted".
	Reason    string `json:"reason,omitempty"`
	MessageKO string `json:"message_ko"`
	MessageEN string `json:"message_en"`
	Venue     string `json:"venue"`
}

// Modes and reasons of a State.
const (
	ModeDisplay          = "display"
	ModeReader           = "reader"
	ReasonClockUntrusted = "clock-untrusted"
)

// untrustedRetry is how soon a reader-mode page asks again.
const untrustedRetry = 10 * time.Second

// New returns a Display for cfg.
func New(cfg Config) (*Display, error) {
	if cfg.Period == 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Venue
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	switch {
	case cfg.Clock == nil:
		return nil, errors.New("display: no clock")
	case len(cfg.Key) != ed25519.PrivateKeySize:
		return nil, errors.New("display: no device key")
	}
	// Sign once to check device, venue and period.
	if _, err := venuecode.SignDisplay(cfg.Key, venuecode.Display{Device: cfg.Device, Venue: cfg.Venue, Length: cfg.Period}); err != nil {
		return nil, fmt.Errorf("display: %w", err)
	}
	return &Display{cfg: cfg}, nil
}

// Current returns the state at the display's clock: the code of the
// current period, or reader mode when the clock is not trusted.
func (d *Display) Current() (State, error) {
	now, trusted := d.cfg.Clock()
	secs := int(d.cfg.Period / time.Second)
	if !trusted {
		return State{
			Mode: ModeReader, Reason: ReasonClockUntrusted, PeriodSeconds: secs, Venue: d.cfg.Name,
			RefreshMS: untrustedRetry.Milliseconds(),
			MessageKO: "시계가 맞춰지지 않아 QR 체크인 코드를 표시할 수 없습니다. 리더 모드만 가능합니다: 출입 QR(패스)을 스캐너에 보여 주세요.",
			MessageEN: "The kiosk's clock is not synchronised, so no check-in code can be shown. Reader mode only: show your pass QR to the scanner.",
		}, nil
	}
	c := venuecode.Display{Device: d.cfg.Device, Venue: d.cfg.Venue, Length: d.cfg.Period, Period: venuecode.PeriodOf(now, d.cfg.Period)}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cached.Mode != ModeDisplay || d.cached.Period != c.Period {
		text, err := venuecode.SignDisplay(d.cfg.Key, c)
		if err != nil {
			return State{}, err
		}
		svg, err := QRSVG(text)
		if err != nil {
			return State{}, err
		}
		d.cached = State{
			Mode: ModeDisplay, Code: text, QRSVG: svg, Period: c.Period, PeriodSeconds: secs,
			Expires: c.End(), Venue: d.cfg.Name,
			MessageKO: "안심 앱으로 QR 코드를 스캔해 체크인하세요.",
			MessageEN: "Scan the QR code with the Anshim app to check in.",
		}
	}
	st := d.cached
	// Ask again just after the period ends.
	st.RefreshMS = max(c.End().Sub(now).Milliseconds()+200, 200)
	return st, nil
}

// Handler returns the pages.
func (d *Display) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.servePage)
	mux.HandleFunc("GET /code.json", d.serveCode)
	return mux
}

func (d *Display) serveCode(w http.ResponseWriter, r *http.Request) {
	st, err := d.Current()
	if err != nil {
		d.cfg.Log.Error("display code", "err", err)
		http.Error(w, "display code unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(st)
}

func (d *Display) servePage(w http.ResponseWriter, r *http.Request) {
	st, err := d.Current()
	if err != nil {
		d.cfg.Log.Error("display code", "err", err)
		http.Error(w, "display code unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := renderPage(w, st); err != nil {
		d.cfg.Log.Error("display page", "err", err)
	}
}

// Serve serves the display on addr (default DefaultListen) until ctx is
// done.
func (d *Display) Serve(ctx context.Context, addr string) error {
	if addr == "" {
		addr = DefaultListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("display: %w", err)
	}
	return d.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener, which it closes.
func (d *Display) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           d.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      10 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.cfg.Log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("display: %w", err)
}
