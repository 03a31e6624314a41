package province

import (
	"crypto/ed25519"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/crypto/nacl/box"
	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/pass"
)

// Keys are a province's secret keys. The zero value is not usable: use
// [Generate] or [Load]. Keys are not safe for concurrent use while
// [Keys.RotatePassKey] runs.
type Keys struct {
	name        string
	passKeys    []ed25519.PrivateKey // oldest first; the last is current
	sealingPub  [32]byte
	sealingPriv [32]byte
	ledgerKey   string // note signer key, "PRIVATE+KEY+name+hash+key"
	kek         [32]byte
	root        ed25519.PrivateKey // nil in a key directory made before the root key
}

// Generate makes a new set of province keys named name, reading randomness
// from rand (crypto/rand if nil). The name, for example "jeju", is also the
// ledger key's name: 1 to 64 characters from A-Z a-z 0-9 . - _.
func Generate(rand io.Reader, name string) (*Keys, error) {
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("generate province keys: %w", err)
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	k := &Keys{name: name}
	if _, err := k.RotatePassKey(rand); err != nil {
		return nil, fmt.Errorf("generate province keys: %w", err)
	}
	pub, priv, err := box.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("generate province keys: sealing key: %w", err)
	}
	k.sealingPub, k.sealingPriv = *pub, *priv
	skey, vkey, err := note.GenerateKey(rand, name)
	if err != nil {
		return nil, fmt.Errorf("generate province keys: ledger key: %w", err)
	}
	if derived, err := ledgerVerifierKey(skey); err != nil || derived != vkey {
		return nil, fmt.Errorf("generate province keys: ledger key does not round-trip (%v)", err)
	}
	k.ledgerKey = skey
	if _, err := io.ReadFull(rand, k.kek[:]); err != nil {
		return nil, fmt.Errorf("generate province keys: key-encryption key: %w", err)
	}
	// The root key comes last, so that the other keys derive from rand as
	// they did before it existed.
	if err := k.AddRootKey(rand); err != nil {
		return nil, fmt.Errorf("generate province keys: %w", err)
	}
	return k, nil
}

// ErrNoRootKey means that the keys have no root signing key: they were
// made before it existed. `anshim keygen --dir DIR --add-root` adds one.
var ErrNoRootKey = errors.New("the province keys have no root signing key (root.key)")

// AddRootKey makes the root signing key, read from rand (crypto/rand if
// nil), for keys made before it existed. It fails if k has one already.
// The root key signs key updates (see [KeyUpdate]); kiosks trust it through
// the bundle.
func (k *Keys) AddRootKey(rand io.Reader) error {
	if k.root != nil {
		return errors.New("root signing key: the keys have one already")
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return fmt.Errorf("root signing key: %w", err)
	}
	k.root = priv
	return nil
}

// HasRootKey reports whether k has a root signing key.
func (k *Keys) HasRootKey() bool { return k.root != nil }

// RootKeyID returns the id of the root signing key (see [RootKeyID]), or
// "" without one.
func (k *Keys) RootKeyID() string {
	if k.root == nil {
		return ""
	}
	return RootKeyID(k.root.Public().(ed25519.PublicKey))
}

// RootKeyID returns the id of a root public key: the hex of the first 4
// bytes of its SHA-256.
func RootKeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:4])
}

// checkName checks a province name.
func checkName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("province name %q: want 1 to 64 characters", name)
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("province name %q: want only A-Z a-z 0-9 . - _", name)
		}
	}
	return nil
}

// RotatePassKey adds a new pass-signing key, read from rand (crypto/rand if
// nil), and makes it the current one. The older keys stay in the bundle, so
// that the passes they signed stay valid. It returns the new key's public
// half.
func (k *Keys) RotatePassKey(rand io.Reader) (pass.PublicKey, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return pass.PublicKey{}, fmt.Errorf("pass-signing key: %w", err)
	}
	id := pass.KeyIDOf(pub)
	for _, old := range k.passKeys {
		if pass.KeyIDOf(old.Public().(ed25519.PublicKey)) == id {
			return pass.PublicKey{}, fmt.Errorf("pass-signing key: id %08x is already in use", id)
		}
	}
	k.passKeys = append(k.passKeys, priv)
	return pass.PublicKey{ID: id, Key: pub}, nil
}

// Name returns the province's name.
func (k *Keys) Name() string { return k.name }

// String describes k without its secrets.
func (k *Keys) String() string {
	return fmt.Sprintf("province %s keys (pass key %08x, sealing key %s)", k.name, k.Signer().PublicKey().ID, k.SealingKeyID())
}

// GoString describes k without its secrets.
func (k *Keys) GoString() string { return k.String() }

// Signer returns a signer with the current pass-signing key.
func (k *Keys) Signer() pass.Signer {
	if len(k.passKeys) == 0 {
		return pass.Signer{}
	}
	return pass.Signer{Private: slices.Clone(k.passKeys[len(k.passKeys)-1])}
}

// PassKeys returns the public pass-signing keys, oldest first; the last one
// is the current key.
func (k *Keys) PassKeys() []pass.PublicKey {
	keys := make([]pass.PublicKey, len(k.passKeys))
	for i, priv := range k.passKeys {
		pub := priv.Public().(ed25519.PublicKey)
		keys[i] = pass.PublicKey{ID: pass.KeyIDOf(pub), Key: pub}
	}
	return keys
}

// SealingKeyID returns the id of the record-sealing key (see [SealingKeyID]).
func (k *Keys) SealingKeyID() string { return SealingKeyID(&k.sealingPub) }

// SealingPublicKey returns a copy of the record-sealing X25519 public key.
func (k *Keys) SealingPublicKey() *[32]byte {
	pub := k.sealingPub
	return &pub
}

// SealingPrivateKey returns a copy of the record-sealing X25519 private key,
// for box.OpenAnonymous.
func (k *Keys) SealingPrivateKey() *[32]byte {
	priv := k.sealingPriv
	return &priv
}

// LedgerSigner returns the signer of the ledger's checkpoints.
func (k *Keys) LedgerSigner() (note.Signer, error) {
	s, err := note.NewSigner(k.ledgerKey)
	if err != nil {
		return nil, fmt.Errorf("ledger signing key: %w", err)
	}
	return s, nil
}

// LedgerVerifierKey returns the note verifier key of the ledger signing key.
func (k *Keys) LedgerVerifierKey() string {
	vkey, err := ledgerVerifierKey(k.ledgerKey)
	if err != nil {
		// Generate and Load check the key.
		panic("province: invalid ledger key: " + err.Error())
	}
	return vkey
}

// KEK returns a copy of the key-encryption key.
func (k *Keys) KEK() *[32]byte {
	kek := k.kek
	return &kek
}

// Bundle returns the public bundle of k.
func (k *Keys) Bundle() *Bundle {
	return &Bundle{
		Version:        BundleVersion,
		Province:       k.name,
		PassPublicKeys: k.PassKeys(),
		SealingKeyID:   k.SealingKeyID(),
		SealingKey:     k.sealingPub,
		LedgerVerifier: k.LedgerVerifierKey(),
		RootKey:        k.rootPublic(),
	}
}

// rootPublic returns the root public key, or nil.
func (k *Keys) rootPublic() ed25519.PublicKey {
	if k.root == nil {
		return nil
	}
	return slices.Clone(k.root.Public().(ed25519.PublicKey))
}

// SealingKeyID returns the id of a record-sealing public key: the hex of the
// first 4 bytes of its SHA-256.
func SealingKeyID(pub *[32]byte) string {
	sum := sha256.Sum256(pub[:])
	return hex.EncodeToString(sum[:4])
}

// ledgerVerifierKey derives the note verifier key from a note signer key.
func ledgerVerifierKey(skey string) (string, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", err
	}
	// A note signer key is PRIVATE+KEY+name+hash+base64(alg || seed).
	seed, err := decodeNoteKey(skey)
	if err != nil {
		return "", err
	}
	vkey, err := note.NewEd25519VerifierKey(s.Name(), ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	if err != nil {
		return "", err
	}
	return vkey, nil
}

// decodeNoteKey returns the Ed25519 seed of a note signer key,
// PRIVATE+KEY+name+hash+base64(algorithm byte || seed).
func decodeNoteKey(skey string) ([]byte, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return nil, errors.New("malformed note signer key")
	}
	key, err := base64.StdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return nil, errors.New("malformed note signer key")
	}
	return key[1:], nil
}
