// Package display is a kiosk's display mode: a full-screen local web page,
// for a kiosk-mode browser on the device, that shows the venue's rotating
// signed code (see venuecode) as a QR code and changes it every period.
// The visitor's app scans it and checks in online at the central.
//
// # Pages
//
//	GET /            the full-screen page (Korean and English at once: an
//	                 unattended entrance has no one to switch), the venue's
//	                 name as headline, its category, the QR code inline and
//	                 a line for visitors without the app; display.js
//	                 fetches /code.json and redraws when the period ends
//	GET /code.json   {"mode","code","qr_svg","period","period_seconds",
//	                  "expires","reason","message_ko","message_en","venue",
//	                  "category_ko","category_en","no_app_ko","no_app_en"}
//	GET /display.css, /display.js, /fonts/…  the page's style, script and
//	                 font (Noto Sans KR, embedded: the page shows Korean on
//	                 a kiosk image without any CJK font)
//
// The page loads nothing from elsewhere, and its Content-Security-Policy
// allows only its own server: no inline script or style.
//
// # The venue's name
//
// The kiosk knows its venue's id from its device; the name and category
// come with the venue's settings of the down-sync (wire.VenueSettings,
// cached in the outbox for offline restarts; `kiosk init --venue-name`
// puts them there for a kiosk that has never synced). Config.VenueInfo is
// asked at every request, so a renamed venue shows within a period.
//
// # Clock
//
// A code is only as good as the kiosk's clock: a kiosk whose wall clock is
// not trustworthy (not NTP-synced, no RTC, not corrected at its last sync)
// would show codes of the wrong period, which the central refuses. So it
// shows none: the page tells the visitor to show a pass or card to the
// scanner (what works without a code), and /code.json has mode "reader"
// and reason "clock-untrusted".
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
	// Name and Category are the venue's name, shown as the page's
	// headline (default the venue id), and its category (central/registry
	// names: "cafe", "restaurant"…; "" shows none).
	Name     string
	Category string
	// VenueInfo, if set, is asked for the venue's name and category at
	// every request; an empty name keeps Name and Category. It must be
	// safe for concurrent use.
	VenueInfo func() (name, category string)
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
	// Venue is the venue's name (the headline); CategoryKO and
	// CategoryEN its category, "" when unknown.
	Venue      string `json:"venue"`
	CategoryKO string `json:"category_ko"`
	CategoryEN string `json:"category_en"`
	// NoAppKO and NoAppEN tell visitors without the app what to do (display
	// mode; in reader mode the message says it).
	NoAppKO string `json:"no_app_ko"`
	NoAppEN string `json:"no_app_en"`
}

// What the page says.
const (
	displayKO = "안심 앱으로 QR 코드를 스캔해 체크인하세요."
	displayEN = "Scan the QR code with the Anshim app to check in."
	noAppKO   = "앱이 없으시면 안심 카드를 스캐너에 보여주세요"
	noAppEN   = "No app? Show your Anshim card to the scanner."
	readerKO  = "안심 패스(앱의 QR 코드)나 안심 카드를 스캐너에 보여주세요."
	readerEN  = "Show your pass or card to the scanner."
)

// categories are the venue categories (central/registry.Category) in
// Korean and English.
var categories = map[string][2]string{
	"restaurant": {"음식점", "Restaurant"},
	"cafe":       {"카페", "Café"},
	"bar":        {"주점", "Bar"},
	"bathhouse":  {"목욕탕", "Bathhouse"},
	"gym":        {"체육시설", "Gym"},
	"karaoke":    {"노래연습장", "Karaoke"},
	"pc-room":    {"PC방", "PC room"},
	"church":     {"종교시설", "Place of worship"},
	"academy":    {"학원", "Academy"},
	"other":      {"", ""},
}

// venue returns the venue's name and category labels now.
func (d *Display) venue() (name, ko, en string) {
	name, cat := d.cfg.Name, d.cfg.Category
	if d.cfg.VenueInfo != nil {
		if n, c := d.cfg.VenueInfo(); n != "" {
			name, cat = n, c
		}
	}
	if l, ok := categories[cat]; ok {
		return name, l[0], l[1]
	}
	return name, cat, cat // a category this kiosk does not know: as the central names it
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
	name, catKO, catEN := d.venue()
	if !trusted {
		return State{
			Mode: ModeReader, Reason: ReasonClockUntrusted, PeriodSeconds: secs,
			Venue: name, CategoryKO: catKO, CategoryEN: catEN,
			RefreshMS: untrustedRetry.Milliseconds(),
			MessageKO: readerKO, MessageEN: readerEN,
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
			Expires: c.End(), MessageKO: displayKO, MessageEN: displayEN, NoAppKO: noAppKO, NoAppEN: noAppEN,
		}
	}
	st := d.cached
	st.Venue, st.CategoryKO, st.CategoryEN = name, catKO, catEN
	// Ask again just after the period ends.
	st.RefreshMS = max(c.End().Sub(now).Milliseconds()+200, 200)
	return st, nil
}

// Handler returns the pages.
func (d *Display) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.servePage)
	mux.HandleFunc("GET /code.json", d.serveCode)
	mux.Handle("GET /display.css", staticFile("display.css"))
	mux.Handle("GET /display.js", staticFile("display.js"))
	mux.Handle("GET /fonts/", http.FileServerFS(static))
	return securityHeaders(mux)
}

// csp allows the page nothing but its own server: its style, script,
// font and /code.json. The QR code is inline SVG markup, not an image.
const csp = "default-src 'none'; style-src 'self'; script-src 'self'; font-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
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
