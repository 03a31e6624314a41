package uplink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/sync/wire"
)

// Settings is how a kiosk reaches the central's NATS servers, as the
// central handed them out at enrollment. Its file form (DATA/nats.json,
// written by `kiosk enroll`) is
//
//	{"urls":["nats://central.example:4222"],"subject":"anshim.checkins.<venue>.<device>","inbox_prefix":"_INBOX_<device>"}
type Settings struct {
	URLs        []string `json:"urls"`
	Subject     string   `json:"subject"`
	InboxPrefix string   `json:"inbox_prefix"`
}

// LoadSettings reads a settings file. Unknown fields are errors, so a typo
// does not silently fall back to a default.
func LoadSettings(path string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("load NATS settings: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("load NATS settings %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("load NATS settings %s: %w", path, err)
	}
	return s, nil
}

// Marshal returns the settings' file form.
func (s Settings) Marshal() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Validate checks that the settings can be used to connect.
func (s Settings) Validate() error {
	if len(s.URLs) == 0 {
		return errors.New("no NATS server URLs")
	}
	for _, u := range s.URLs {
		if strings.TrimSpace(u) == "" || strings.ContainsAny(u, ", \t\n") {
			return fmt.Errorf("NATS URL %q: want one URL such as nats://host:4222", u)
		}
	}
	if s.Subject != "" && !wire.ValidSubject(s.Subject) {
		return fmt.Errorf("subject %q: not a literal NATS subject", s.Subject)
	}
	if s.InboxPrefix != "" && !wire.ValidSubject(s.InboxPrefix) {
		return fmt.Errorf("inbox prefix %q: not a literal NATS subject", s.InboxPrefix)
	}
	return nil
}

// LoadSeed reads a NATS user nkey seed file (DATA/nats.nk) and checks it.
func LoadSeed(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load NATS key: %w", err)
	}
	seed := bytes.TrimSpace(b)
	if err := CheckSeed(seed); err != nil {
		return nil, fmt.Errorf("load NATS key %s: %w", path, err)
	}
	return seed, nil
}

// CheckSeed checks that seed is a NATS user nkey seed ("SU...").
func CheckSeed(seed []byte) error {
	prefix, _, err := nkeys.DecodeSeed(seed)
	if err != nil {
		return fmt.Errorf("not an nkey seed: %w", err)
	}
	if prefix != nkeys.PrefixByteUser {
		return errors.New("not a user nkey seed")
	}
	return nil
}
