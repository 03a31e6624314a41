// Package appcheckin is the central's check-in of the visitor's app: the
// app scans a kiosk's rotating display code (venuecode) or
// a venue's printed poster code (registry poster), and sends it with the
// person's pass and a GPS fix. The central checks all three, flags what is
// doubtful, and stores the check-in as a record of a synthetic per-venue
// "app" device, so that traces find it like a kiosk's.
//
// # Checks, in order
//
//  1. The pass: a province pass key signed it, it is valid now, it is not
//     revoked (reasons "pass-…", see pass.Reason).
//  2. The code. A display code: its device is enrolled ("unknown-device"),
//     at the code's venue ("wrong-venue"), signed it ("bad-signature"),
//     for the current period ±1 ("stale-period"). A poster code: a
//     province pass key signed it ("bad-signature") and its venue exists
//     ("unknown-venue"); then the GPS check: farther from the venue than
//     max(150 m, 2 × accuracy), or no fix at all, flags the check-in
//     "suspect" (kept, never refused: a phone's GPS can be wrong indoors).
//  3. Travel: a person's app check-in out of reach of their previous one,
//     faster than 300 km/h, is flagged "impossible-travel".
//  4. Duplicates: the same person at the same venue, the same way in or
//     out, within the venue's debounce window (its DebounceSeconds, 10
//     minutes by default, as the kiosks) is answered "duplicate" with the
//     time of the first check-in, and nothing is stored; so is a resend of
//     a scan the app already sent (the same client_id), with its first
//     answer.
//
// A rejected check-in stores nothing. Reasons are stable strings for the
// app's screen.
//
// # Offline scans
//
// The app queues a scan made without network with the phone's time of
// the scan ("scanned_at") and sends it later. The central records it at
// that time. A display code carries its period: the scan is accepted
// when scanned_at lies within the code's period widened by
// [OfflineTolerance] (2 minutes) on each side, and otherwise kept and
// flagged "late-offline": a phone's clock is set by the network to
// within seconds, a kiosk's by NTP or its real-time clock to within a
// minute, so two minutes take both in and still tell a code photographed
// and replayed later. A scan claiming a time after the central's now
// plus the tolerance is recorded at the central's now and flagged the
// same way; one older than [MaxScanAge] is refused ("scan-too-old"), as
// its day is about to leave the 28-day retention. A poster code has no
// period: its scan time cannot be checked and is taken as claimed.
//
// # What is stored
//
// The check-in is a record of device "app-<venue>" (enrolled on first use,
// with keys nobody holds: it never syncs), the next sequence number of that
// device, its chain hash continuing the device's chain. The personal part
// is sealed under the day key and tagged exactly as sync/ingest does for a
// kiosk's record, so retention destroys it with the rest of its day.
package appcheckin

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/venuecode"
)

// Results.
const (
	Accepted  = "accepted"
	Rejected  = "rejected"
	Duplicate = "duplicate" // within the venue's debounce window, or a resend: nothing stored
)

// Reasons of a rejection. A pass's reasons are "pass-" and pass.Reason:
// "pass-expired", "pass-revoked", "pass-malformed", "pass-unknown-key", ….
const (
	ReasonMalformedCode = "malformed-code" // neither a display nor a poster code
	ReasonBadSignature  = "bad-signature"  // the code's signature does not verify
	ReasonUnknownDevice = "unknown-device" // the display code's device is not enrolled
	ReasonWrongVenue    = "wrong-venue"    // the device is enrolled at another venue
	ReasonStalePeriod   = "stale-period"   // the display code is not of the current period ±1
	ReasonUnknownVenue  = "unknown-venue"  // the code's venue is not registered
	ReasonBadLocation   = "bad-location"   // lat, lon or accuracy out of range
	ReasonPassPrefix    = "pass-"          // + pass.Reason
	ReasonRateLimited   = "rate-limited"   // too many check-ins of this pass or client
	ReasonBadClientID   = "bad-client-id"  // client_id is not 1 to 64 printable ASCII characters
	ReasonBadTime       = "bad-time"       // scanned_at is not a time
	ReasonScanTooOld    = "scan-too-old"   // scanned_at is older than MaxScanAge
)

// Flags of an accepted check-in.
const (
	FlagSuspect          = "suspect"           // poster code far from the venue, or no GPS fix
	FlagImpossibleTravel = "impossible-travel" // out of reach of the previous check-in
	FlagLateOffline      = "late-offline"      // an offline scan whose code's period does not match its time
)

// How a check-in was made, in receipts and the app's list of visits.
const (
	HowDisplay = "app-display" // the app scanned a kiosk's display code
	HowPoster  = "app-poster"  // the app scanned a venue's poster
	HowExit    = "exit"        // the app recorded leaving
)

// Offline scans and duplicates (see the package documentation).
const (
	// OfflineTolerance widens a display code's period on each side when
	// it is compared with an offline scan's time.
	OfflineTolerance = 2 * time.Minute
	// MaxScanAge is the oldest offline scan accepted.
	MaxScanAge = 27 * 24 * time.Hour
	// DefaultDebounce is a venue's same-pass window when it set none (the
	// kiosks' default).
	DefaultDebounce = 10 * time.Minute
	// MaxClientID bounds the app's per-scan id.
	MaxClientID = 64
)

// Limits of the checks.
const (
	// MinRadius is the least distance from a poster's venue that is
	// suspect; a fix of accuracy a is allowed 2a.
	MinRadius = 150.0 // metres
	// MaxSpeed is the fastest believable travel between check-ins.
	MaxSpeed = 300.0 // km/h
	// TravelSlack is a distance always reachable (neighbouring venues, two
	// fixes of one place), whatever the time between.
	TravelSlack = 1000.0 // metres
	// MaxAccuracy bounds a fix's reported accuracy.
	MaxAccuracy = 100_000.0 // metres
)

// Request is one check-in from the app.
type Request struct {
	Pass string `json:"pass"`
	Code string `json:"code"`
	// Lat and Lon are the phone's fix in WGS 84 degrees; nil when the app
	// has none.
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
	// Accuracy is the fix's radius in metres (0: unknown).
	Accuracy float64 `json:"accuracy"`
	// ScannedAt is the phone's time of an offline scan (RFC 3339); absent
	// means now.
	ScannedAt *time.Time `json:"scanned_at,omitempty"`
	// Exit records leaving the venue rather than entering it.
	Exit bool `json:"exit,omitempty"`
	// ClientID is the app's random id of the scan: a resend with the same
	// id is answered as the first time and stored once.
	ClientID string `json:"client_id,omitempty"`
}

// Result is the answer.
type Result struct {
	Result    string   `json:"result"`           // Accepted, Rejected or Duplicate
	Reason    string   `json:"reason,omitempty"` // why it was rejected
	Flags     []string `json:"flags"`            // of an accepted check-in; never nil
	Venue     string   `json:"venue,omitempty"`
	VenueName string   `json:"venue_name,omitempty"`
	// Detail explains the reason, without personal data.
	Detail string `json:"detail,omitempty"`
	// Time is when it was recorded; of a duplicate, when the first one
	// was.
	Time time.Time `json:"time,omitzero"`
}

func rejected(reason, format string, args ...any) Result {
	return Result{Result: Rejected, Reason: reason, Flags: []string{}, Detail: fmt.Sprintf(format, args...)}
}

// Store is what the check-in needs of the central's store (store.Store
// has it).
type Store interface {
	Device(ctx context.Context, id string) (store.Device, error)
	Venue(ctx context.Context, id string) (store.Venue, error)
	AddDevice(ctx context.Context, d store.Device) error
	State(ctx context.Context, device string) (store.DeviceState, error)
	Ingest(ctx context.Context, b store.Batch) (int, error)
	// CheckInsByTag finds the person's earlier check-ins (duplicates).
	CheckInsByTag(ctx context.Context, day time.Time, tag [16]byte) ([]store.CheckIn, error)
	// AppReceipt and PutAppReceipt keep the answers to client ids.
	AppReceipt(ctx context.Context, client [32]byte) (store.AppReceipt, error)
	PutAppReceipt(ctx context.Context, r store.AppReceipt) error
}

// Config configures a Service. Store, DayKeys and PassKeys are required.
type Config struct {
	Store   Store
	DayKeys *daykeys.Keys
	// PassKeys are the province's pass keys: they verify passes and
	// posters.
	PassKeys []pass.PublicKey
	// Revoked reports whether a revocation id is revoked (the central's
	// revoked bucket). nil: nothing is revoked. An error fails the
	// check-in (it is not accepted unchecked).
	Revoked func(ctx context.Context, revocationID string) (bool, error)
	// Seen, if set, is told the pseudonym of each stored check-in (the
	// identity vault's last use). It must not block; it owns the slice.
	Seen func([][16]byte)
	// ClientKey keys the hash of a pass's pseudonym and a client id in
	// receipts (required: 32 bytes or more, a server secret).
	ClientKey []byte
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log gets one line per check-in, without personal data (default
	// slog.Default()).
	Log *slog.Logger
}

// Service checks and stores app check-ins. It is safe for concurrent use.
type Service struct {
	cfg      Config
	verifier *pass.Verifier
	travel   *travelLog

	mu sync.Mutex // serialises duplicate checks and the app devices' sequence numbers
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("appcheckin: no store")
	case cfg.DayKeys == nil:
		return nil, errors.New("appcheckin: no day keys")
	case len(cfg.PassKeys) == 0:
		return nil, errors.New("appcheckin: no pass keys")
	case len(cfg.ClientKey) < 32:
		return nil, errors.New("appcheckin: no client key (32 bytes or more)")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg, verifier: pass.NewVerifier(cfg.PassKeys, nil), travel: newTravelLog()}, nil
}

// CheckIn checks req and stores it when accepted. An error means the
// central could not decide or store (its store or revocation list failed):
// nothing was accepted, the app retries.
func (s *Service) CheckIn(ctx context.Context, req Request) (Result, error) {
	now := s.cfg.Now().UTC()
	res, err := s.checkIn(ctx, req, now)
	if err != nil {
		return Result{}, err
	}
	switch res.Result {
	case Rejected:
		s.cfg.Log.Info("app check-in rejected", "reason", res.Reason, "detail", res.Detail)
	case Duplicate:
		s.cfg.Log.Info("app check-in duplicate", "venue", res.Venue)
	default:
		s.cfg.Log.Info("app check-in accepted", "venue", res.Venue, "flags", res.Flags)
	}
	return res, nil
}

func (s *Service) checkIn(ctx context.Context, req Request, now time.Time) (Result, error) {
	// The fix, if any, must be a place on Earth.
	var fix *registry.Location
	if req.Lat != nil || req.Lon != nil {
		if req.Lat == nil || req.Lon == nil || !validLatLon(*req.Lat, *req.Lon) {
			return rejected(ReasonBadLocation, "want both lat (-90..90) and lon (-180..180)"), nil
		}
		fix = &registry.Location{Lat: *req.Lat, Lon: *req.Lon}
	}
	if math.IsNaN(req.Accuracy) || req.Accuracy < 0 || req.Accuracy > MaxAccuracy {
		return rejected(ReasonBadLocation, "accuracy: want 0 to %.0f metres", MaxAccuracy), nil
	}
	if !validClientID(req.ClientID) {
		return rejected(ReasonBadClientID, "client_id: want 1 to %d printable ASCII characters", MaxClientID), nil
	}
	// The time of the scan: now, or the phone's time of an offline scan.
	at, offline := now, req.ScannedAt != nil
	var flags []string
	if offline {
		switch t := req.ScannedAt.UTC(); {
		case t.IsZero():
			return rejected(ReasonBadTime, "scanned_at: want an RFC 3339 time"), nil
		case now.Sub(t) > MaxScanAge:
			return rejected(ReasonScanTooOld, "scanned %s, more than %d days ago", t.Format(time.RFC3339), int(MaxScanAge.Hours()/24)), nil
		case t.Sub(now) > OfflineTolerance:
			flags = append(flags, FlagLateOffline) // a time to come: recorded now
		default:
			at = t
		}
	}

	// 1. The pass.
	p, err := s.verifier.Verify(req.Pass, now)
	if err != nil {
		return rejected(ReasonPassPrefix+pass.Reason(err), "%v", err), nil
	}
	// A resend of a scan answered before gets the same answer.
	var client [32]byte
	if req.ClientID != "" {
		client = s.clientKey(p.Pseudonym, req.ClientID)
		r, err := s.cfg.Store.AppReceipt(ctx, client)
		if err == nil {
			return s.answer(ctx, r), nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return Result{}, fmt.Errorf("app check-in: %w", err)
		}
	}
	if s.cfg.Revoked != nil {
		revoked, err := s.cfg.Revoked(ctx, p.RevocationID())
		if err != nil {
			return Result{}, fmt.Errorf("app check-in: revocation list: %w", err)
		}
		if revoked {
			return rejected(ReasonPassPrefix+pass.ReasonRevoked, "the pass is revoked"), nil
		}
	}

	// 2. The code.
	var venue store.Venue
	how := HowDisplay
	switch {
	case venuecode.IsDisplay(req.Code):
		c, err := venuecode.ParseDisplay(req.Code)
		if err != nil {
			return rejected(ReasonMalformedCode, "%v", err), nil
		}
		dev, err := s.cfg.Store.Device(ctx, c.Device)
		if errors.Is(err, store.ErrNotFound) || err == nil && isAppDevice(dev) {
			return rejected(ReasonUnknownDevice, "device %s is not enrolled", c.Device), nil
		} else if err != nil {
			return Result{}, fmt.Errorf("app check-in: %w", err)
		}
		if _, err := venuecode.VerifyDisplay(dev.PublicKey, req.Code); err != nil {
			return rejected(ReasonBadSignature, "%v", err), nil
		}
		if dev.Venue != c.Venue {
			return rejected(ReasonWrongVenue, "device %s is enrolled at venue %s, not %s", c.Device, dev.Venue, c.Venue), nil
		}
		if !offline && !c.Fresh(now) {
			return rejected(ReasonStalePeriod, "code of period %d (%s), now is period %d",
				c.Period, c.Start().Format(time.RFC3339), venuecode.PeriodOf(now, c.Length)), nil
		}
		if offline && !slices.Contains(flags, FlagLateOffline) && !periodMatches(c, at) {
			flags = append(flags, FlagLateOffline)
			s.cfg.Log.Warn("app check-in: offline scan time does not match the code's period", "venue", c.Venue,
				"period_start", c.Start().Format(time.RFC3339), "scanned_at", at.Format(time.RFC3339))
		}
		if venue, err = s.cfg.Store.Venue(ctx, c.Venue); errors.Is(err, store.ErrNotFound) {
			return rejected(ReasonUnknownVenue, "venue %s is not registered", c.Venue), nil
		} else if err != nil {
			return Result{}, fmt.Errorf("app check-in: %w", err)
		}
	case venuecode.IsPoster(req.Code):
		how = HowPoster
		id, err := venuecode.VerifyPoster(s.cfg.PassKeys, req.Code)
		if err != nil {
			var pe *venuecode.PosterError
			if errors.As(err, &pe) && (pe.Reason == venuecode.PosterBadSignature || pe.Reason == venuecode.PosterUnknownKey) {
				return rejected(ReasonBadSignature, "%v", err), nil
			}
			return rejected(ReasonMalformedCode, "%v", err), nil
		}
		if venue, err = s.cfg.Store.Venue(ctx, id); errors.Is(err, store.ErrNotFound) {
			return rejected(ReasonUnknownVenue, "venue %s is not registered", id), nil
		} else if err != nil {
			return Result{}, fmt.Errorf("app check-in: %w", err)
		}
		if far, why := gpsSuspect(venue.Location, fix, req.Accuracy); far {
			flags = append(flags, FlagSuspect)
			s.cfg.Log.Warn("app check-in suspect: poster far from the venue", "venue", id, "why", why)
		}
	default:
		return rejected(ReasonMalformedCode, "not a display code (%s…) nor a poster code (%s…)", venuecode.DisplayPrefix, venuecode.PosterPrefix), nil
	}
	kind := checkin.Entry
	if req.Exit {
		kind, how = checkin.Exit, HowExit
	}

	// Duplicates: the person's check-ins at the venue within its window.
	s.mu.Lock() // so that two concurrent scans store one
	defer s.mu.Unlock()
	if first, ok, err := s.duplicate(ctx, p.Pseudonym, venue, kind, at); err != nil {
		return Result{}, err
	} else if ok {
		return Result{Result: Duplicate, Flags: []string{}, Venue: venue.ID, VenueName: venue.Name, Time: first,
			Detail: "already checked in at this venue at " + first.In(kst).Format("15:04")}, nil
	}

	// 3. Travel. The person was where the venue is (the fix of a display
	// check-in is not needed; a poster's is checked above).
	loc := venue.Location
	if loc == (registry.Location{}) && fix != nil {
		loc = *fix
	}
	if s.travel.check(p.Pseudonym, loc, at) {
		flags = append(flags, FlagImpossibleTravel)
	}

	seq, err := s.record(ctx, venue.ID, &p, kind, flags, at, now)
	if err != nil {
		return Result{}, err
	}
	if flags == nil {
		flags = []string{}
	}
	// The receipt says how it was made; without a client id, under a
	// random key nobody will ask for.
	if req.ClientID == "" {
		rand.Read(client[:])
	}
	r := store.AppReceipt{Client: client, Device: AppDevice(venue.ID), Seq: seq, Venue: venue.ID, How: how, Flags: flags, Time: at, Created: now}
	if err := s.cfg.Store.PutAppReceipt(ctx, r); err != nil && !errors.Is(err, store.ErrExists) {
		// Stored, but a resend would be answered "duplicate", and the
		// visits list says "app-display".
		s.cfg.Log.Warn("app check-in: receipt not stored", "venue", venue.ID, "err", err)
	}
	return Result{Result: Accepted, Flags: flags, Venue: venue.ID, VenueName: venue.Name, Time: at}, nil
}

// kst is Korea Standard Time, the zone of the times the app is told.
var kst = time.FixedZone("KST", 9*3600)

// answer is the answer to a resend of the scan whose receipt is r.
func (s *Service) answer(ctx context.Context, r store.AppReceipt) Result {
	res := Result{Result: Accepted, Flags: r.Flags, Venue: r.Venue, Time: r.Time}
	if res.Flags == nil {
		res.Flags = []string{}
	}
	if v, err := s.cfg.Store.Venue(ctx, r.Venue); err == nil {
		res.VenueName = v.Name
	}
	return res
}

// clientKey is the receipt key of a person's scan: HMAC-SHA256 under the
// client key of the pseudonym and the client id.
func (s *Service) clientKey(pseudonym [16]byte, clientID string) [32]byte {
	m := hmac.New(sha256.New, s.cfg.ClientKey)
	m.Write(pseudonym[:])
	m.Write([]byte(clientID))
	return [32]byte(m.Sum(nil))
}

// validClientID reports whether id is empty or 1 to MaxClientID
// printable ASCII characters.
func validClientID(id string) bool {
	if len(id) > MaxClientID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// periodMatches reports whether t lies within c's period widened by
// OfflineTolerance on each side.
func periodMatches(c venuecode.Display, t time.Time) bool {
	start := c.Start()
	return !t.Before(start.Add(-OfflineTolerance)) && t.Before(start.Add(c.Length+OfflineTolerance))
}

// Debounce returns a venue's same-pass window: its DebounceSeconds, or
// DefaultDebounce when 0; 0 (none) when negative.
func Debounce(v store.Venue) time.Duration {
	switch {
	case v.DebounceSeconds < 0:
		return 0
	case v.DebounceSeconds == 0:
		return DefaultDebounce
	}
	return time.Duration(v.DebounceSeconds) * time.Second
}

// duplicate finds the person's earliest check-in of kind at the venue
// within its debounce window of t (from kiosks too), by their day tags.
func (s *Service) duplicate(ctx context.Context, who [16]byte, v store.Venue, kind checkin.Kind, t time.Time) (time.Time, bool, error) {
	w := Debounce(v)
	if w <= 0 {
		return time.Time{}, false, nil
	}
	var first time.Time
	for d := daykeys.DayOf(t.Add(-w)); d <= daykeys.DayOf(t.Add(w)); d++ {
		tag, err := s.cfg.DayKeys.Tag(d, who)
		if errors.Is(err, daykeys.ErrDestroyed) {
			continue
		} else if err != nil {
			return first, false, fmt.Errorf("app check-in: %w", err)
		}
		rs, err := s.cfg.Store.CheckInsByTag(ctx, d.Start(), tag)
		if err != nil {
			return first, false, fmt.Errorf("app check-in: %w", err)
		}
		for _, r := range rs {
			if r.Venue != v.ID || r.Kind != kind || r.Time.Sub(t).Abs() >= w {
				continue
			}
			if first.IsZero() || r.Time.Before(first) {
				first = r.Time
			}
		}
	}
	return first, !first.IsZero(), nil
}

func validLatLon(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}

// gpsSuspect reports whether a poster check-in at fix is suspect for a
// venue at loc: no fix, or farther than max(MinRadius, 2 × accuracy). A
// venue without a location (stored before the registry) cannot be checked.
func gpsSuspect(loc registry.Location, fix *registry.Location, accuracy float64) (bool, string) {
	if loc == (registry.Location{}) {
		return false, ""
	}
	if fix == nil {
		return true, "no GPS fix"
	}
	d := Distance(loc, *fix)
	limit := max(MinRadius, 2*accuracy)
	if d > limit {
		return true, fmt.Sprintf("%.0f m from the venue, allowed %.0f m", d, limit)
	}
	return false, ""
}

// Distance returns the great-circle distance between a and b in metres
// (haversine, mean Earth radius).
func Distance(a, b registry.Location) float64 {
	const r = 6_371_008.8
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// AppDevice returns the synthetic device id of a venue's app check-ins:
// "app-" and the venue id, or for a long venue id "app-" and 16 hex digits
// of its SHA-256 (a device id has at most 64 characters).
func AppDevice(venue string) string {
	if id := "app-" + venue; len(id) <= checkin.MaxIDLen {
		return id
	}
	sum := sha256.Sum256([]byte(venue))
	return "app-" + hex.EncodeToString(sum[:8])
}

// isAppDevice reports whether d is a synthetic app device (it signs no
// display codes).
func isAppDevice(d store.Device) bool { return d.ID == AppDevice(d.Venue) }

// record stores an accepted check-in at time at (received now) as the
// next record of the venue's app device and returns its sequence number.
// The caller holds s.mu.
func (s *Service) record(ctx context.Context, venue string, p *pass.Pass, kind checkin.Kind, flags []string, at, now time.Time) (uint64, error) {
	device := AppDevice(venue)
	var f uint32
	for _, fl := range flags {
		switch fl {
		case FlagSuspect:
			f |= store.FlagSuspect
		case FlagImpossibleTravel:
			f |= store.FlagImpossibleTravel
		case FlagLateOffline:
			f |= store.FlagLateOffline
		}
	}
	if err := s.ensureDevice(ctx, device, venue, now); err != nil {
		return 0, err
	}
	day := daykeys.DayOf(at)
	person := checkin.Personal{Pseudonym: p.Pseudonym, PassKind: uint8(p.Kind), Serial: p.Serial}
	tag, err := s.cfg.DayKeys.Tag(day, p.Pseudonym)
	if err != nil {
		return 0, fmt.Errorf("app check-in: %w", err)
	}
	// Another central worker may take a sequence number meanwhile: Ingest
	// then stores nothing, and the next number is tried.
	for range 8 {
		st, err := s.cfg.Store.State(ctx, device)
		if err != nil {
			return 0, fmt.Errorf("app check-in: %w", err)
		}
		seq := st.LastSeq + 1
		var buf [checkin.PersonalLen]byte
		sealed, err := s.cfg.DayKeys.Seal(day, person.AppendBinary(buf[:0]), daykeys.AD(device, seq))
		clear(buf[:])
		if err != nil {
			return 0, fmt.Errorf("app check-in: %w", err)
		}
		r := checkin.Record{Device: device, Seq: seq, Venue: venue, Wall: at, Quality: checkin.NTPSynced, Kind: kind, Sealed: sealed}
		raw, err := r.MarshalBinary()
		if err != nil {
			return 0, fmt.Errorf("app check-in: %w", err)
		}
		h := checkin.Next(st.LastHash, raw)
		recs := []store.CheckIn{{
			Device: device, Seq: seq, Venue: venue, Kind: kind,
			RawWall: at, Quality: checkin.NTPSynced, Time: at,
			Sealed: sealed, Tag: tag, Hash: h, Flags: f, Received: now,
		}}
		// Its ledger leaf, as for a kiosk's batch: the record as built
		// stands for the message received, and the stored lines let the
		// data audit check it.
		leaf := ledgerstore.NewBatch(device, seq, seq, h, sha256.Sum256(raw), recs)
		leafText, err := leaf.MarshalText()
		if err != nil {
			return 0, fmt.Errorf("app check-in: ledger leaf: %w", err)
		}
		n, err := s.cfg.Store.Ingest(ctx, store.Batch{
			Device: device, LastSeq: seq, LastHash: h,
			Records: recs, Leaf: leafText,
		})
		if err != nil {
			return 0, fmt.Errorf("app check-in: store: %w", err)
		}
		if n == 1 {
			if s.cfg.Seen != nil {
				s.cfg.Seen([][16]byte{p.Pseudonym})
			}
			return seq, nil
		}
	}
	return 0, fmt.Errorf("app check-in: device %s: no free sequence number after 8 tries", device)
}

// ensureDevice enrolls the venue's app device if it is not yet: with an
// Ed25519 key and a NATS user key whose private halves are thrown away, so
// that nobody can sign or publish as it.
func (s *Service) ensureDevice(ctx context.Context, device, venue string, now time.Time) error {
	_, err := s.cfg.Store.Device(ctx, device)
	if err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("app check-in: %w", err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("app check-in: %w", err)
	}
	nk, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("app check-in: %w", err)
	}
	npub, err := nk.PublicKey()
	if err != nil {
		return fmt.Errorf("app check-in: %w", err)
	}
	err = s.cfg.Store.AddDevice(ctx, store.Device{ID: device, Venue: venue, PublicKey: pub, NKey: npub, Enrolled: now})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return fmt.Errorf("app check-in: enroll %s: %w", device, err)
	}
	s.cfg.Log.Info("app device enrolled", "device", device, "venue", venue)
	return nil
}
