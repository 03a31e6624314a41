package kiosk

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anshim/anshim/internal/atomicfile"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// Files in a kiosk's data directory.
const (
	FileDeviceKey  = "device.key"  // Ed25519 seed and debounce key, mode 0600
	FileDevice     = "device.json" // public identity
	FileBundle     = "bundle.json" // the province's public bundle
	FileRevoked    = "revoked.json"
	FileOutbox     = "outbox.db"
	deviceKeyMagic = "anshim-device-key-v1"
)

// Device is a kiosk's identity. Its private key never leaves the device.
type Device struct {
	ID        string            `json:"device"`
	Venue     string            `json:"venue"`
	PublicKey ed25519.PublicKey `json:"public_key"`
	Created   time.Time         `json:"created"`

	key         ed25519.PrivateKey
	debounceKey []byte
}

// PrivateKey returns the device's signing key.
func (d *Device) PrivateKey() ed25519.PrivateKey { return d.key }

// DebounceKey returns the device-local key of the debounce hash.
func (d *Device) DebounceKey() []byte { return d.debounceKey }

// NewDevice makes a fresh device identity in memory: an Ed25519 key that
// never leaves the device and a debounce key. Install writes it.
func NewDevice(venue string, now time.Time) (*Device, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	deb := make([]byte, 32)
	if _, err := rand.Read(deb); err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	return &Device{ID: wire.DeviceID(pub), Venue: venue, PublicKey: pub, Created: now.UTC(), key: priv, debounceKey: deb}, nil
}

// Provision prepares a data directory for a kiosk with no network: a fresh
// device key, the province bundle and an empty outbox. It refuses a
// directory that already holds a device.
func Provision(dir, bundlePath, venue string, now time.Time) (*Device, error) {
	bundle, err := province.LoadBundle(bundlePath)
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	d, err := NewDevice(venue, now)
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	if err := d.Install(dir, bundle); err != nil {
		return nil, err
	}
	return d, nil
}

// Install writes the device into a new data directory: its keys (0600),
// the province bundle, its identity and an empty outbox. device.json is
// written last: a directory without it is not provisioned. It refuses a
// directory that already holds a device.
func (d *Device) Install(dir string, bundle *province.Bundle) error {
	if !wire.ValidVenueID(d.Venue) {
		return fmt.Errorf("provision: venue id %q: use 1-64 letters, digits, '-' or '_'", d.Venue)
	}
	if _, err := os.Stat(filepath.Join(dir, FileDevice)); err == nil {
		return fmt.Errorf("provision: %s already holds a device; use another directory or remove it first", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	keyText := fmt.Sprintf("%s\n%s\n%s\n", deviceKeyMagic,
		base64.StdEncoding.EncodeToString(d.key.Seed()), base64.StdEncoding.EncodeToString(d.debounceKey))
	if err := atomicfile.Write(filepath.Join(dir, FileDeviceKey), []byte(keyText), 0o600); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	if err := bundle.Save(filepath.Join(dir, FileBundle)); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	ob := filepath.Join(dir, FileOutbox)
	os.Remove(ob) // left by an interrupted provisioning (no device.json yet)
	if err := CreateOutbox(ob, OutboxMeta{Device: d.ID, Venue: d.Venue}); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	js, _ := json.MarshalIndent(d, "", "  ")
	if err := atomicfile.Write(filepath.Join(dir, FileDevice), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	return nil
}

// ErrNotProvisioned is the error (wrapped) of [LoadDevice] for a data
// directory that holds no device: neither `kiosk init` nor `kiosk enroll`
// has made one there.
var ErrNotProvisioned = errors.New("not provisioned")

// LoadDevice reads the device identity and keys from a data directory.
func LoadDevice(dir string) (*Device, error) {
	js, err := os.ReadFile(filepath.Join(dir, FileDevice))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load device: %s is %w", dir, ErrNotProvisioned)
		}
		return nil, fmt.Errorf("load device: %w", err)
	}
	var d Device
	if err := json.Unmarshal(js, &d); err != nil {
		return nil, fmt.Errorf("load device: %s: %w", FileDevice, err)
	}
	kt, err := os.ReadFile(filepath.Join(dir, FileDeviceKey))
	if err != nil {
		return nil, fmt.Errorf("load device key: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(kt)), "\n")
	if len(lines) != 3 || lines[0] != deviceKeyMagic {
		return nil, fmt.Errorf("load device key: %s is not an Anshim device key", FileDeviceKey)
	}
	seed, err1 := base64.StdEncoding.DecodeString(lines[1])
	deb, err2 := base64.StdEncoding.DecodeString(lines[2])
	if err := errors.Join(err1, err2); err != nil || len(seed) != ed25519.SeedSize || len(deb) < 16 {
		return nil, fmt.Errorf("load device key: malformed %s", FileDeviceKey)
	}
	d.key = ed25519.NewKeyFromSeed(seed)
	d.debounceKey = deb
	if !d.key.Public().(ed25519.PublicKey).Equal(d.PublicKey) || wire.DeviceID(d.PublicKey) != d.ID {
		return nil, fmt.Errorf("load device: %s does not match %s", FileDeviceKey, FileDevice)
	}
	return &d, nil
}
