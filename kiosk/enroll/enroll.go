// Package enroll is the kiosk's side of enrollment (docs/sync.md,
// "Enrollment and credentials"): with a one-time token from the province's
// operator, a kiosk makes its device key and NATS user key — neither
// private key ever leaves the device — registers their public halves with
// the central, and installs what the central answers: the province bundle
// and how to reach the central's NATS servers. The messages are the
// protocol's, [wire.EnrollRequest] and [wire.Enrollment]. The package sits
// with the kiosk because it installs a kiosk data directory
// ([kiosk.Device], kiosk.File…): no sync/ package imports the kiosk.
//
// # Files
//
// Enroll writes a kiosk data directory as `kiosk init` does (device key,
// bundle, empty outbox, device.json last), plus nats.nk (the NATS user
// seed, mode 0600) and nats.json ([uplink.Settings]), which make
// `kiosk run` sync.
//
// # Enrolling a kiosk initialised offline
//
// A directory made by `kiosk init` (a device, no nats.json) is enrolled
// in place: the device keeps its key, its id and its outbox with every
// check-in buffered so far, which `kiosk run` then syncs from the first.
// The request names the kiosk's venue, and the central refuses a token of
// another venue before it registers the device ([wire.VenueMismatch]); the
// kiosk checks the answer's venue and province too, so nothing is
// installed for the wrong venue or province ([VenueMismatchError],
// [ErrOtherProvince]). Only nats.nk, nats.json, nats-ca.pem and, if the
// central's differs, bundle.json are written; device.key, device.json and
// outbox.db are not touched. A directory that is enrolled already is
// refused before the token is used up ([ErrEnrolled]).
//
// # Authenticating the central
//
// The answer installs the keys the kiosk will trust, so it must come from
// the province's central: Enroll talks only to an https:// central, or to
// any central when the bundle's SHA-256 is pinned ([Options.BundleSHA256],
// printed by `anshim keygen` and `central serve`); with a pin, a bundle
// that does not hash to it fails the enrollment before anything is
// written. The NATS CA in the answer is a key update signed by the root
// key of that bundle, so it is as authentic as the bundle; it is written
// to nats-ca.pem, and `kiosk run` trusts only it for NATS.
//
// # Retries
//
// A network error or a 5xx answer is retried with the same keys: the
// central answers a repeated request of the same device with the same
// enrollment, so a lost response does not cost the token.
package enroll

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anshim/anshim/internal/atomicfile"

	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// maxResponse bounds the central's answer.
const maxResponse = 1 << 20

// Options say where to enroll and where to install the kiosk.
type Options struct {
	// Central is the central's base URL, e.g. https://central.example.
	Central string
	// Token is the one-time enrollment token.
	Token string
	// BundleSHA256 pins the province bundle: the hex SHA-256 of its file
	// form (province.Bundle.SHA256). Required unless Central is https://.
	BundleSHA256 string
	// Dir is the kiosk data directory to create.
	Dir string
	// Client makes the request (default: a client with a 30s timeout).
	Client *http.Client
	// Attempts is how many times a network error or 5xx is tried
	// (default 3), waiting RetryWait (default 2s) between attempts.
	Attempts  int
	RetryWait time.Duration
	// Now stamps the device's creation (default time.Now).
	Now func() time.Time
}

// Result is an installed enrollment.
type Result struct {
	Device   *kiosk.Device
	Settings uplink.Settings
	// NATSCA is the CA certificate (PEM) the kiosk trusts for NATS, or nil
	// when the central gave none.
	NATSCA []byte
	// BundleSHA256 is the SHA-256 of the installed bundle.
	BundleSHA256 string
	// Existing is true when the directory held a device made by `kiosk
	// init`, now enrolled with its key and outbox.
	Existing bool
}

// Errors callers branch on.
var (
	// ErrUnauthenticated: the central's URL is not https:// and no bundle
	// SHA-256 is pinned, so nothing would authenticate its answer.
	ErrUnauthenticated = errors.New("the central's answer cannot be authenticated: its URL is not https:// and no bundle SHA-256 is pinned")
	// ErrBundleMismatch: the bundle received does not hash to the pin.
	ErrBundleMismatch = errors.New("the province bundle received does not match --bundle-sha256")
	// ErrEnrolled: the data directory holds an enrolled kiosk already.
	ErrEnrolled = errors.New("the kiosk is enrolled already")
	// ErrOtherProvince: the central's province bundle has other keys than
	// the bundle the kiosk was initialised with, so the central could not
	// open the check-ins buffered so far.
	ErrOtherProvince = errors.New("the central belongs to another province than the kiosk's bundle")
)

// VenueMismatchError: the token is for another venue than the one the
// kiosk was initialised for (`kiosk init --venue`). Nothing was installed.
type VenueMismatchError struct {
	Kiosk string // the kiosk's venue, from device.json
	Token string // the token's venue, "" when the central did not say
	// Message is the central's refusal, "" when the kiosk found the
	// mismatch in the central's answer.
	Message string
}

func (e *VenueMismatchError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("the token is not for venue %s, the venue this kiosk was initialised for: %s", e.Kiosk, e.Message)
	}
	return fmt.Sprintf("the token is for venue %s, but this kiosk was initialised for venue %s", e.Token, e.Kiosk)
}

// RefusedError is the central's refusal (an HTTP 4xx answer): a token
// unknown, used or expired, or a malformed request.
type RefusedError struct {
	Status  int
	Message string // the central's message
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the central refused the enrollment (HTTP %d): %s", e.Status, e.Message)
}

// BadToken reports whether the central refused the token itself.
func (e *RefusedError) BadToken() bool {
	return e.Status == http.StatusForbidden || e.Status == http.StatusUnauthorized || e.Status == http.StatusGone
}

// UnreachableError means the central could not be asked: a network error
// or a server error after every attempt.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the central at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Enroll makes the kiosk's keys, registers them with the central and
// installs the kiosk in o.Dir.
func Enroll(ctx context.Context, o Options) (*Result, error) {
	endpoint, err := o.endpoint()
	if err != nil {
		return nil, err
	}
	pin := strings.ToLower(strings.TrimSpace(o.BundleSHA256))
	if pin != "" {
		if raw, err := hex.DecodeString(pin); err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("enroll: bundle SHA-256 %q: want 64 hex digits", o.BundleSHA256)
		}
	} else if !strings.HasPrefix(endpoint, "https://") {
		return nil, fmt.Errorf("enroll: %s: %w", o.Central, ErrUnauthenticated)
	}
	if o.Token == "" {
		return nil, errors.New("enroll: no token")
	}
	if o.Dir == "" {
		return nil, errors.New("enroll: no data directory")
	}
	// A device already there was made by `kiosk init`: enroll it in place.
	dev, err := kiosk.LoadDevice(o.Dir)
	existing := err == nil
	switch {
	case existing:
		if _, err := os.Stat(filepath.Join(o.Dir, kiosk.FileNATS)); err == nil {
			return nil, fmt.Errorf("enroll: %s: %w (device %s, venue %s)", o.Dir, ErrEnrolled, dev.ID, dev.Venue)
		}
	case errors.Is(err, kiosk.ErrNotProvisioned):
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		if dev, err = kiosk.NewDevice("", now()); err != nil {
			return nil, fmt.Errorf("enroll: %w", err)
		}
	default:
		return nil, fmt.Errorf("enroll: %s holds a device that cannot be read: %w", o.Dir, err)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("enroll: NATS key: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, fmt.Errorf("enroll: NATS key: %w", err)
	}
	npub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("enroll: NATS key: %w", err)
	}
	req := wire.EnrollRequest{Token: o.Token, DeviceKey: base64.StdEncoding.EncodeToString(dev.PublicKey), NKey: npub}
	if existing {
		req.Venue = dev.Venue
	}
	resp, err := o.post(ctx, endpoint, req)
	var refused *RefusedError
	if existing && errors.As(err, &refused) && strings.Contains(refused.Message, wire.VenueMismatch) {
		return nil, &VenueMismatchError{Kiosk: dev.Venue, Message: refused.Message}
	}
	if err != nil {
		return nil, err
	}
	settings, err := check(resp, dev)
	if err != nil {
		return nil, fmt.Errorf("enroll: the central's answer: %w", err)
	}
	if existing && resp.Venue != dev.Venue {
		// A central that does not know EnrollRequest.Venue.
		return nil, &VenueMismatchError{Kiosk: dev.Venue, Token: resp.Venue}
	}
	sum, err := resp.Bundle.SHA256()
	if err != nil {
		return nil, fmt.Errorf("enroll: the central's answer: %w", err)
	}
	if pin != "" && sum != pin {
		return nil, fmt.Errorf("enroll: %w: got %s, want %s (is this the province's central?); nothing was installed", ErrBundleMismatch, sum, pin)
	}
	var ca []byte
	if resp.NATSCA != "" {
		if ca, err = openCA(resp.Bundle, resp.NATSCA); err != nil {
			return nil, fmt.Errorf("enroll: the central's answer: %w; nothing was installed", err)
		}
	}
	if existing {
		if err := installCredentials(o.Dir, resp.Bundle, settings, seed, ca); err != nil {
			return nil, err
		}
		return &Result{Device: dev, Settings: settings, NATSCA: ca, BundleSHA256: sum, Existing: true}, nil
	}
	dev.Venue = resp.Venue
	if err := install(o.Dir, dev, resp.Bundle, settings, seed, ca); err != nil {
		return nil, err
	}
	return &Result{Device: dev, Settings: settings, NATSCA: ca, BundleSHA256: sum}, nil
}

// sameProvince reports whether the central's bundle has the keys of the
// bundle a kiosk was initialised with: the same root key when both have
// one (a later bundle may carry rotated pass and sealing keys), else the
// same sealing key.
func sameProvince(installed, central *province.Bundle) bool {
	if len(installed.RootKey) > 0 && len(central.RootKey) > 0 {
		return installed.RootKey.Equal(central.RootKey)
	}
	return installed.SealingKey == central.SealingKey
}

// installCredentials enrolls a kiosk initialised offline in dir: its NATS
// credentials and CA, and the central's bundle if it differs from the
// installed one (of the same province). The device and its outbox stay.
func installCredentials(dir string, bundle *province.Bundle, s uplink.Settings, seed, ca []byte) error {
	path := filepath.Join(dir, kiosk.FileBundle)
	installed, err := province.LoadBundle(path)
	if err != nil {
		return fmt.Errorf("enroll: the kiosk's bundle: %w", err)
	}
	if !sameProvince(installed, bundle) {
		return fmt.Errorf("enroll: %w (province %q, initialised with %q); nothing was installed", ErrOtherProvince, bundle.Province, installed.Province)
	}
	oldSum, err1 := installed.SHA256()
	newSum, err2 := bundle.SHA256()
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if oldSum != newSum {
		if err := bundle.Save(path); err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
	}
	// nats.json last: a directory without it is not enrolled and may be
	// enrolled again.
	return writeCredentials(dir, s, seed, ca)
}

// openCA verifies the NATS CA of an enrollment with the bundle's root key
// and returns its PEM certificates.
func openCA(b *province.Bundle, text string) ([]byte, error) {
	u, err := b.OpenKeyUpdate([]byte(text), province.KindNATSCA, wire.NATSCAName)
	if err != nil {
		return nil, fmt.Errorf("nats_ca: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(u.Payload) {
		return nil, errors.New("nats_ca: no PEM certificate")
	}
	return u.Payload, nil
}

// endpoint returns the enrollment URL of o.Central.
func (o Options) endpoint() (string, error) {
	u, err := url.Parse(strings.TrimSpace(o.Central))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("enroll: central URL %q: want http(s)://host[:port]", o.Central)
	}
	return u.JoinPath(wire.EnrollPath).String(), nil
}

// post sends the request, retrying network errors and server errors.
func (o Options) post(ctx context.Context, endpoint string, req wire.EnrollRequest) (*wire.Enrollment, error) {
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	attempts, wait := o.Attempts, o.RetryWait
	if attempts <= 0 {
		attempts = 3
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	body, _ := json.Marshal(req)
	var last error
	for i := range attempts {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		resp, retry, err := postOnce(ctx, client, endpoint, body)
		switch {
		case err == nil:
			return resp, nil
		case !retry || ctx.Err() != nil:
			return nil, err
		}
		last = err
	}
	return nil, &UnreachableError{URL: endpoint, Err: last}
}

// serverError is a 5xx answer: worth another attempt.
type serverError struct {
	status  int
	message string
}

func (e *serverError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.message) }

// postOnce makes one request; retry says whether another attempt may
// succeed (a network or server error).
func postOnce(ctx context.Context, client *http.Client, endpoint string, body []byte) (resp *wire.Enrollment, retry bool, err error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("enroll: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hresp, err := client.Do(hreq)
	if err != nil {
		return nil, true, err
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponse+1))
	if err != nil {
		return nil, true, fmt.Errorf("read the answer: %w", err)
	}
	switch {
	case hresp.StatusCode >= 500:
		return nil, true, &serverError{hresp.StatusCode, message(data)}
	case hresp.StatusCode >= 400:
		return nil, false, &RefusedError{Status: hresp.StatusCode, Message: message(data)}
	case hresp.StatusCode != http.StatusOK && hresp.StatusCode != http.StatusCreated:
		return nil, false, fmt.Errorf("enroll: unexpected answer HTTP %d from %s: %s", hresp.StatusCode, endpoint, message(data))
	case len(data) > maxResponse:
		return nil, false, fmt.Errorf("enroll: answer larger than %d bytes from %s", maxResponse, endpoint)
	}
	resp = new(wire.Enrollment)
	if err := json.Unmarshal(data, resp); err != nil {
		return nil, false, fmt.Errorf("enroll: the answer of %s is not an enrollment (is it the central?): %w", endpoint, err)
	}
	return resp, false, nil
}

// message returns the central's error message: the "error" field of a
// JSON answer, or the text, shortened.
func message(data []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil {
		if e.Error != "" {
			return e.Error
		}
		if e.Message != "" {
			return e.Message
		}
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		s = "(no message)"
	}
	return s
}

// check checks the central's answer against the device it enrolled.
func check(r *wire.Enrollment, dev *kiosk.Device) (uplink.Settings, error) {
	s := uplink.Settings{URLs: r.NATSURLs, Subject: r.Subject, InboxPrefix: r.InboxPrefix}
	switch {
	case r.Device != dev.ID:
		return s, fmt.Errorf("device %q, but this kiosk's key makes %s", r.Device, dev.ID)
	case !wire.ValidVenueID(r.Venue):
		return s, fmt.Errorf("venue id %q is not valid", r.Venue)
	case r.Bundle == nil:
		return s, errors.New("no province bundle")
	}
	if s.Subject == "" {
		s.Subject = wire.CheckInSubject(r.Venue, r.Device)
	}
	if s.InboxPrefix == "" {
		s.InboxPrefix = wire.InboxPrefix(r.Device)
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

// install writes the NATS credentials and CA, then the device (device.json
// last: a directory without it is not provisioned and may be enrolled
// again).
func install(dir string, dev *kiosk.Device, bundle *province.Bundle, s uplink.Settings, seed, ca []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := writeCredentials(dir, s, seed, ca); err != nil {
		return err
	}
	if err := dev.Install(dir, bundle); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	return nil
}

// writeCredentials writes the NATS seed, the CA (or removes one left by
// an interrupted enrollment) and nats.json, last.
func writeCredentials(dir string, s uplink.Settings, seed, ca []byte) error {
	js, err := s.Marshal()
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, kiosk.FileNATSKey), append(seed, '\n'), 0o600); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	caPath := filepath.Join(dir, kiosk.FileNATSCA)
	if ca != nil {
		if err := atomicfile.Write(caPath, ca, 0o644); err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
	} else if err := os.Remove(caPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("enroll: %w", err) // left by an interrupted enrollment
	}
	if err := atomicfile.Write(filepath.Join(dir, kiosk.FileNATS), js, 0o644); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	return nil
}
