package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

// CheckRevocationID checks a key of [BucketRevoked]: a pass's revocation
// id (pass.Pass.RevocationID), 32 lower-case hex digits.
func CheckRevocationID(id string) error {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 16 || hex.EncodeToString(b) != id {
		return fmt.Errorf("revocation id %q: want 32 lower-case hex digits", id)
	}
	return nil
}

// PassKeyName returns the key of a pass key in [BucketPassKeys], and the
// name of its key update: its id as 8 hex digits.
func PassKeyName(id uint32) string { return fmt.Sprintf("%08x", id) }

// FormatPassKey returns the payload of a pass key's key update: the
// base64 of the Ed25519 public key.
func FormatPassKey(k pass.PublicKey) []byte {
	return []byte(base64.StdEncoding.EncodeToString(k.Key))
}

// ParsePassKey parses the payload of a pass key's key update named name
// (8 hex digits): a base64 Ed25519 public key whose id must be name.
func ParsePassKey(name string, payload []byte) (pass.PublicKey, error) {
	raw, err := hex.DecodeString(name)
	if err != nil || len(raw) != 4 {
		return pass.PublicKey{}, fmt.Errorf("key id %q: want 8 hex digits", name)
	}
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(payload)))
	if err != nil || len(key) != 32 {
		return pass.PublicKey{}, fmt.Errorf("key %s: want a base64 Ed25519 public key", name)
	}
	k := pass.PublicKey{ID: uint32(raw[0])<<24 | uint32(raw[1])<<16 | uint32(raw[2])<<8 | uint32(raw[3]), Key: key}
	if pass.KeyIDOf(key) != k.ID {
		return pass.PublicKey{}, fmt.Errorf("key %s: the id does not match the key", name)
	}
	return k, nil
}

// SealingKey is the payload of the sealing key's key update
// ([BucketSealing], key [SealingKeyCurrent]): the X25519 public key
// records are sealed to, and its id (province.SealingKeyID). Its JSON form
// is {"id":"…","key":"base64"}.
type SealingKey struct {
	ID  string
	Key [32]byte
}

// sealingJSON is the JSON form of a SealingKey.
type sealingJSON struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// Marshal returns the JSON form of k.
func (k SealingKey) Marshal() ([]byte, error) {
	return json.Marshal(sealingJSON{ID: k.ID, Key: base64.StdEncoding.EncodeToString(k.Key[:])})
}

// ParseSealingKey parses the JSON form of a sealing key and checks that
// its id is the key's.
func ParseSealingKey(payload []byte) (SealingKey, error) {
	var s sealingJSON
	if err := json.Unmarshal(payload, &s); err != nil {
		return SealingKey{}, fmt.Errorf("sealing key: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(s.Key)
	if err != nil || len(raw) != 32 {
		return SealingKey{}, errors.New("sealing key: want a base64 X25519 public key")
	}
	k := SealingKey{ID: s.ID}
	copy(k.Key[:], raw)
	if province.SealingKeyID(&k.Key) != s.ID {
		return SealingKey{}, fmt.Errorf("sealing key: id %q does not match the key", s.ID)
	}
	return k, nil
}

// VenueSettings is the value of a venue in [BucketVenues], as kiosks read
// it. The venue's status is not in it: a suspended venue's kiosks keep
// working as before.
type VenueSettings struct {
	Name string `json:"name"`
	// Category is the venue's category (central/registry.Category).
	Category string `json:"category"`
	// DefaultStay is the stay of a visitor who never scanned out, as a Go
	// duration in whole minutes ("45m").
	DefaultStay string `json:"default_stay"`
	// Debounce is the same-pass window the venue's kiosks apply, as a Go
	// duration ("5m0s"; "-1s": off), unless a kiosk's own configuration
	// sets one; absent when the venue leaves the kiosks' default (10
	// minutes).
	Debounce string `json:"debounce,omitempty"`
}

// Marshal returns the JSON form of v.
func (v VenueSettings) Marshal() ([]byte, error) { return json.Marshal(v) }

// ParseVenueSettings parses the JSON form of a venue's settings. Fields
// it does not know are ignored, so that the central may add some; the
// values are not checked (a kiosk checks those it uses).
func ParseVenueSettings(data []byte) (VenueSettings, error) {
	var v VenueSettings
	if err := json.Unmarshal(data, &v); err != nil {
		return VenueSettings{}, fmt.Errorf("venue settings: %w", err)
	}
	return v, nil
}
