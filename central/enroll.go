package central

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// Errors callers branch on (the HTTP API maps them to status codes).
var (
	// ErrInvalid marks a request with a malformed field.
	ErrInvalid = errors.New("invalid request")
	// ErrBadToken: the enrollment token is unknown, used or expired.
	ErrBadToken = errors.New("enrollment token unknown, already used or expired")
	// ErrVenueMismatch: a kiosk initialised offline asked to enroll with a
	// token of another venue (wire.EnrollRequest.Venue).
	ErrVenueMismatch = errors.New("enrollment refused")
)

// Token is a new enrollment token.
type Token struct {
	Token   string    `json:"token"`
	Venue   string    `json:"venue"`
	Expires time.Time `json:"expires"`
	// BundleSHA256 is the SHA-256 of the province bundle that the
	// enrollment hands out, for `kiosk enroll --bundle-sha256`.
	BundleSHA256 string `json:"bundle_sha256"`
}

// NewToken makes a one-time enrollment token for a kiosk of venue, valid
// for the configured token lifetime (7 days by default). Only its hash is
// stored. The venue must be approved (ErrNotApproved otherwise).
func (s *Server) NewToken(ctx context.Context, venue string) (string, error) {
	t, err := s.newToken(ctx, venue)
	return t.Token, err
}

// newToken is NewToken returning the expiry too.
func (s *Server) newToken(ctx context.Context, venue string) (Token, error) {
	if _, err := s.approvedVenue(ctx, venue); err != nil {
		return Token{}, fmt.Errorf("new token: %w", err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Token{}, fmt.Errorf("new token: %w", err)
	}
	text := hex.EncodeToString(b[:])
	t := store.Token{
		Hash:    sha256.Sum256([]byte(text)),
		Venue:   venue,
		Expires: s.now().Add(s.cfg.TokenTTLOrDefault()).UTC(),
	}
	if err := s.store.AddToken(ctx, t); err != nil {
		return Token{}, fmt.Errorf("new token: %w", err)
	}
	s.log.Info("enrollment token issued", "venue", venue, "expires", t.Expires)
	return Token{Token: text, Venue: venue, Expires: t.Expires, BundleSHA256: s.BundleSHA256()}, nil
}

// Enroll enrolls a kiosk: it checks the request, uses the token up,
// registers the device and gives its NATS user the device's permissions,
// at once on the embedded server (see [DevicePermissions]).
//
// A kiosk that retries with the same token, device key and nkey after a
// lost response gets the same enrollment again (nothing in it is secret).
// A token used up by a request that failed afterwards stays used: issue a
// new one.
func (s *Server) Enroll(ctx context.Context, req wire.EnrollRequest) (*wire.Enrollment, error) {
	e, err := s.enroll(ctx, req)
	if err != nil {
		s.metrics.enrollFailures.Add(1)
		return nil, err
	}
	s.metrics.enrollments.Add(1)
	return e, nil
}

func (s *Server) enroll(ctx context.Context, req wire.EnrollRequest) (*wire.Enrollment, error) {
	pub, err := base64.StdEncoding.Strict().DecodeString(req.DeviceKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: device_key: want a base64 Ed25519 public key", ErrInvalid)
	}
	if !nkeys.IsValidPublicUserKey(req.NKey) {
		return nil, fmt.Errorf("%w: nkey: want the public key of a NATS user nkey (\"U…\")", ErrInvalid)
	}
	if req.Token == "" || len(req.Token) > 256 {
		return nil, fmt.Errorf("%w: token: missing", ErrInvalid)
	}
	id := wire.DeviceID(pub)
	tok, err := s.store.UseToken(ctx, sha256.Sum256([]byte(req.Token)), s.now())
	switch {
	case errors.Is(err, store.ErrTokenUsed):
		// A retry after a lost response: the same device, key and nkey.
		if d, derr := s.store.Device(ctx, id); derr == nil && sameDevice(d, pub, req.NKey) {
			s.log.Info("enrollment repeated", "device", id, "venue", d.Venue)
			return s.enrolled(d)
		}
		return nil, ErrBadToken
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrBadToken
	case err != nil:
		return nil, fmt.Errorf("enroll: %w", err)
	}
	// A kiosk initialised offline for another venue is refused before it
	// is registered (the token stays used; the device may enroll with a
	// token of its own venue).
	if req.Venue != "" && req.Venue != tok.Venue {
		return nil, fmt.Errorf("%w: %s: the token is for venue %s, the kiosk records check-ins for venue %s: issue a token for venue %s", ErrVenueMismatch, wire.VenueMismatch, tok.Venue, req.Venue, req.Venue)
	}
	// A venue suspended since its token was made gets no new kiosk (the
	// token stays used).
	if _, err := s.approvedVenue(ctx, tok.Venue); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	d := store.Device{ID: id, Venue: tok.Venue, PublicKey: pub, NKey: req.NKey, Enrolled: s.now().UTC()}
	if err := s.store.AddDevice(ctx, d); err != nil {
		if errors.Is(err, store.ErrExists) {
			if old, derr := s.store.Device(ctx, id); derr == nil && sameDevice(old, pub, req.NKey) && old.Venue == tok.Venue {
				return s.enrolled(old)
			}
			return nil, fmt.Errorf("enroll: device %s is already enrolled with another venue or nkey (make a new device key): %w", id, store.ErrExists)
		}
		return nil, fmt.Errorf("enroll: %w", err)
	}
	s.log.Info("device enrolled", "device", id, "venue", d.Venue)
	s.auditRegistry(ctx, store.AuditDeviceEnrolled, map[string]any{"device": id, "venue": d.Venue,
		"device_key": base64.StdEncoding.EncodeToString(pub)})
	return s.enrolled(d)
}

// sameDevice reports whether d has the public key and nkey.
func sameDevice(d store.Device, pub ed25519.PublicKey, nkey string) bool {
	return bytes.Equal(d.PublicKey, pub) && d.NKey == nkey
}

// enrolled makes sure the device's NATS user exists and returns its
// enrollment.
func (s *Server) enrolled(d store.Device) (*wire.Enrollment, error) {
	if err := s.addUser(d); err != nil {
		return nil, fmt.Errorf("enroll: device %s is stored but NATS does not know it yet: %w", d.ID, err)
	}
	e := &wire.Enrollment{
		Device:      d.ID,
		Venue:       d.Venue,
		Bundle:      s.keys.Bundle(),
		NATSURLs:    s.advertisedURLs(),
		Subject:     wire.CheckInSubject(d.Venue, d.ID),
		InboxPrefix: wire.InboxPrefix(d.ID),
	}
	if ca := s.NATSCA(); ca != nil {
		u, err := s.keys.SignKeyUpdate(province.KeyUpdate{Kind: province.KindNATSCA, Name: wire.NATSCAName, Issued: s.now(), Payload: ca})
		if err != nil {
			return nil, fmt.Errorf("enroll: sign the NATS CA: %w", err)
		}
		e.NATSCA = string(province.FormatKeyUpdate(u))
	}
	return e, nil
}

// Revoke revokes a pass by its revocation id (see pass.Pass.RevocationID):
// the id goes to the revoked bucket, which every kiosk watches. It fails
// while NATS is unreachable; the caller retries.
func (s *Server) Revoke(ctx context.Context, revocationID string) error {
	if err := wire.CheckRevocationID(revocationID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if s.kv == nil {
		return errors.New("revoke: not started")
	}
	if err := s.kv.revoke(ctx, revocationID); err != nil {
		return fmt.Errorf("revoke %s: %w", revocationID, err)
	}
	s.metrics.revocations.Add(1)
	s.log.Info("pass revoked", "revocation_id", revocationID)
	return nil
}

// DeviceStats is one enrolled device and its sync state.
type DeviceStats struct {
	ID          string    `json:"id"`
	Venue       string    `json:"venue"`
	Records     uint64    `json:"records"`
	LastSeq     uint64    `json:"last_seq"`
	Quarantined uint64    `json:"quarantined"`
	Breaks      uint64    `json:"breaks"`
	Enrolled    time.Time `json:"enrolled"`
}

// Stats returns every enrolled device of st with its sync state, in id
// order.
func Stats(ctx context.Context, st store.Store) ([]DeviceStats, error) {
	devices, err := st.Devices(ctx)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	out := make([]DeviceStats, 0, len(devices))
	for _, d := range devices {
		ds := DeviceStats{ID: d.ID, Venue: d.Venue, Enrolled: d.Enrolled}
		state, err := st.State(ctx, d.ID)
		switch {
		case err == nil:
			ds.Records, ds.LastSeq, ds.Quarantined, ds.Breaks = state.Records, state.LastSeq, state.Quarantined, state.Breaks
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("stats: %w", err)
		}
		out = append(out, ds)
	}
	return out, nil
}

// Devices returns the enrolled devices with their sync state.
func (s *Server) Devices(ctx context.Context) ([]DeviceStats, error) {
	return Stats(ctx, s.store)
}
