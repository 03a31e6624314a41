package province

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/anshim/anshim/internal/atomicfile"
	"os"
	"slices"

	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/pass"
)

// BundleVersion is the version of the bundle format.
const BundleVersion = 1

// Bundle is a province's public keys: everything a kiosk needs to verify
// passes, seal records and check ledger checkpoints. Its JSON form is
//
//	{
//	  "version": 1,
//	  "province": "jeju",
//	  "pass_keys": [{"id": "5f3a9c21", "public_key": "<base64 Ed25519>"}],
//	  "sealing_key_id": "a0b1c2d3",
//	  "sealing_key": "<base64 X25519>",
//	  "ledger_verifier": "jeju+1234abcd+<base64>",
//	  "root_key_id": "0c1d2e3f",
//	  "root_key": "<base64 Ed25519>"
//	}
//
// The root key verifies key updates (see [Bundle.OpenKeyUpdate]); a bundle
// made before it existed has none, and its kiosks refuse every key update.
//
// Decoding rejects unknown versions and fields, and keys that are malformed
// or do not match their ids, with an error naming the field.
type Bundle struct {
	// Version is BundleVersion.
	Version int
	// Province is the province's name.
	Province string
	// PassPublicKeys are the pass verification keys, oldest first; the last
	// one signs new passes.
	PassPublicKeys []pass.PublicKey
	// SealingKeyID is the id of SealingKey (see [SealingKeyID]).
	SealingKeyID string
	// SealingKey is the X25519 public key that records are sealed to.
	SealingKey [32]byte
	// LedgerVerifier is the note verifier key of the ledger's checkpoints.
	LedgerVerifier string
	// RootKey is the province's root signing key, which signs key updates
	// (pass keys, the sealing key, the NATS CA); nil in an older bundle.
	RootKey ed25519.PublicKey
}

// SHA256 returns the hex SHA-256 of the bundle's file form: what
// `sha256sum public.json` prints for the file [Bundle.Save] writes, and
// what `kiosk enroll --bundle-sha256` pins.
func (b *Bundle) SHA256() (string, error) {
	data, err := b.marshalFile()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// PassKeys returns a copy of the pass verification keys, for
// [pass.NewVerifier].
func (b *Bundle) PassKeys() []pass.PublicKey {
	keys := make([]pass.PublicKey, len(b.PassPublicKeys))
	for i, k := range b.PassPublicKeys {
		keys[i] = pass.PublicKey{ID: k.ID, Key: slices.Clone(k.Key)}
	}
	return keys
}

// PassVerifier returns a verifier of passes signed by any of the bundle's
// pass keys, with an optional revocation list.
func (b *Bundle) PassVerifier(rev pass.Revocations) *pass.Verifier {
	return pass.NewVerifier(b.PassPublicKeys, rev)
}

// SealingPublicKey returns a copy of the record-sealing public key, for
// box.SealAnonymous.
func (b *Bundle) SealingPublicKey() *[32]byte {
	pub := b.SealingKey
	return &pub
}

// NoteVerifier returns the verifier of the ledger's signed checkpoints.
func (b *Bundle) NoteVerifier() (note.Verifier, error) {
	v, err := note.NewVerifier(b.LedgerVerifier)
	if err != nil {
		return nil, fmt.Errorf("bundle: ledger_verifier: %w", err)
	}
	return v, nil
}

// bundleJSON is the JSON form of a Bundle.
type bundleJSON struct {
	Version        int           `json:"version"`
	Province       string        `json:"province"`
	PassKeys       []passKeyJSON `json:"pass_keys"`
	SealingKeyID   string        `json:"sealing_key_id"`
	SealingKey     string        `json:"sealing_key"`
	LedgerVerifier string        `json:"ledger_verifier"`
	RootKeyID      string        `json:"root_key_id,omitempty"`
	RootKey        string        `json:"root_key,omitempty"`
}

type passKeyJSON struct {
	ID        string `json:"id"`
	PublicKey string `json:"public_key"`
}

// MarshalJSON returns the JSON form of b.
func (b *Bundle) MarshalJSON() ([]byte, error) {
	j := bundleJSON{
		Version:        b.Version,
		Province:       b.Province,
		PassKeys:       make([]passKeyJSON, len(b.PassPublicKeys)),
		SealingKeyID:   b.SealingKeyID,
		SealingKey:     base64.StdEncoding.EncodeToString(b.SealingKey[:]),
		LedgerVerifier: b.LedgerVerifier,
	}
	if b.RootKey != nil {
		j.RootKeyID = RootKeyID(b.RootKey)
		j.RootKey = base64.StdEncoding.EncodeToString(b.RootKey)
	}
	for i, k := range b.PassPublicKeys {
		j.PassKeys[i] = passKeyJSON{ID: fmt.Sprintf("%08x", k.ID), PublicKey: base64.StdEncoding.EncodeToString(k.Key)}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes and checks the JSON form of a bundle.
func (b *Bundle) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j bundleJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if dec.More() {
		return errors.New("bundle: data after the JSON object")
	}
	if j.Version != BundleVersion {
		return fmt.Errorf("bundle: version: unsupported version %d (want %d)", j.Version, BundleVersion)
	}
	nb := Bundle{
		Version:        j.Version,
		Province:       j.Province,
		SealingKeyID:   j.SealingKeyID,
		LedgerVerifier: j.LedgerVerifier,
	}
	for i, k := range j.PassKeys {
		key, err := base64.StdEncoding.Strict().DecodeString(k.PublicKey)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return fmt.Errorf("bundle: pass_keys[%d].public_key: want a base64 Ed25519 public key", i)
		}
		id, err := hex.DecodeString(k.ID)
		if err != nil || len(id) != 4 {
			return fmt.Errorf("bundle: pass_keys[%d].id: want 8 hex digits", i)
		}
		nb.PassPublicKeys = append(nb.PassPublicKeys, pass.PublicKey{
			ID:  uint32(id[0])<<24 | uint32(id[1])<<16 | uint32(id[2])<<8 | uint32(id[3]),
			Key: key,
		})
	}
	key, err := base64.StdEncoding.Strict().DecodeString(j.SealingKey)
	if err != nil || len(key) != 32 {
		return errors.New("bundle: sealing_key: want a base64 X25519 public key")
	}
	copy(nb.SealingKey[:], key)
	if j.RootKey != "" || j.RootKeyID != "" {
		root, err := base64.StdEncoding.Strict().DecodeString(j.RootKey)
		if err != nil || len(root) != ed25519.PublicKeySize {
			return errors.New("bundle: root_key: want a base64 Ed25519 public key")
		}
		if id := RootKeyID(root); j.RootKeyID != id {
			return fmt.Errorf("bundle: root_key_id: %q does not match the key (want %s)", j.RootKeyID, id)
		}
		nb.RootKey = root
	}
	if err := nb.check(); err != nil {
		return err
	}
	*b = nb
	return nil
}

// check checks the bundle's fields and that keys match their ids.
func (b *Bundle) check() error {
	if b.Version != BundleVersion {
		return fmt.Errorf("bundle: version: unsupported version %d (want %d)", b.Version, BundleVersion)
	}
	if err := checkName(b.Province); err != nil {
		return fmt.Errorf("bundle: province: %w", err)
	}
	if len(b.PassPublicKeys) == 0 {
		return errors.New("bundle: pass_keys: no pass keys")
	}
	seen := make(map[uint32]bool)
	for i, k := range b.PassPublicKeys {
		if len(k.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("bundle: pass_keys[%d].public_key: want an Ed25519 public key", i)
		}
		if want := pass.KeyIDOf(k.Key); k.ID != want {
			return fmt.Errorf("bundle: pass_keys[%d].id: %08x does not match the key (want %08x)", i, k.ID, want)
		}
		if seen[k.ID] {
			return fmt.Errorf("bundle: pass_keys[%d].id: %08x repeats", i, k.ID)
		}
		seen[k.ID] = true
	}
	if want := SealingKeyID(&b.SealingKey); b.SealingKeyID != want {
		return fmt.Errorf("bundle: sealing_key_id: %q does not match the key (want %s)", b.SealingKeyID, want)
	}
	v, err := note.NewVerifier(b.LedgerVerifier)
	if err != nil {
		return fmt.Errorf("bundle: ledger_verifier: %w", err)
	}
	if v.Name() != b.Province {
		return fmt.Errorf("bundle: ledger_verifier: key name %q is not the province %q", v.Name(), b.Province)
	}
	if b.RootKey != nil && len(b.RootKey) != ed25519.PublicKeySize {
		return errors.New("bundle: root_key: want an Ed25519 public key")
	}
	return nil
}

// marshalFile returns the indented JSON file form of b, after checking it.
func (b *Bundle) marshalFile() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	data, err := b.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Save writes b to path as indented JSON with mode 0644, replacing the file
// atomically. It refuses a bundle that does not check out.
func (b *Bundle) Save(path string) error {
	data, err := b.marshalFile()
	if err != nil {
		return fmt.Errorf("save bundle: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("save bundle: %w", err)
	}
	return nil
}

// LoadBundle reads and checks a bundle file.
func LoadBundle(path string) (*Bundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	b := new(Bundle)
	if err := json.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("load bundle %s: %w", path, err)
	}
	return b, nil
}
