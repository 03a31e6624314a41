// Package daykeys holds the per-day keys that protect stored check-ins, and
// destroys them: crypto-shredding for the 28-day retention.
//
// # Forward ratchet
//
// The keys of consecutive KST days form a one-way chain:
//
//	K(d+1) = HMAC-SHA256(K(d), "anshim-daykey-next-v1")
//
// Only the oldest live day's key is held, in a small file outside the store
// (mode 0600, sealed under the province's key-encryption key). Every later
// day's key is derived from it on demand; an earlier day's key cannot be
// derived from anything that is held. Destroying a day replaces the held
// key by the next one: from then on no copy of the store — a backup, a
// replica, free pages of a database file — can be read or linked for that
// day, because its key exists nowhere.
//
// From a day key two purpose keys are derived: one keys the lookup tag
// HMAC(tag key, pseudonym), the other the AEAD that seals the pseudonym for
// reading. The store holds tags and ciphertexts only.
package daykeys

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/anshim/anshim/internal/atomicfile"
)

// KST is Korea Standard Time (UTC+9, no daylight saving): days are KST
// calendar days.
var KST = time.FixedZone("KST", 9*60*60)

// Day is a KST calendar day, as days since 1970-01-01 KST.
type Day int32

// DayOf returns the KST day of an instant.
func DayOf(t time.Time) Day {
	y, m, d := t.In(KST).Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Start returns the instant the day starts (00:00 KST).
func (d Day) Start() time.Time {
	return time.Unix(int64(d)*86400, 0).UTC().Add(-9 * time.Hour)
}

// String returns the day as YYYY-MM-DD.
func (d Day) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02") }

// ParseDay parses YYYY-MM-DD as a KST day.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("day %q: want YYYY-MM-DD", s)
	}
	return Day(t.Unix() / 86400), nil
}

// Errors callers branch on.
var (
	// ErrDestroyed means the day's key has been destroyed: its check-ins
	// can no longer be stored or read.
	ErrDestroyed = errors.New("day key destroyed")
	// ErrOpen means a sealed pseudonym did not open (wrong day or tampered).
	ErrOpen = errors.New("cannot open sealed pseudonym")
)

const (
	nextLabel = "anshim-daykey-next-v1"
	tagLabel  = "anshim-daykey-tag-v1"
	encLabel  = "anshim-daykey-enc-v1"
	fpLabel   = "anshim-daykey-fingerprint-v1"
	fileMagic = "anshim-daykeys-v1"
)

// Keys is the ratchet. It is safe for concurrent use.
type Keys struct {
	path string
	kek  []byte

	mu     sync.Mutex
	oldest Day
	key    [32]byte
	cache  map[Day]*dayKey
}

type dayKey struct {
	tag  [32]byte
	aead interface {
		Seal(dst, nonce, plaintext, ad []byte) []byte
		Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
		NonceSize() int
		Overhead() int
	}
}

type fileFormat struct {
	Magic  string `json:"magic"`
	Oldest string `json:"oldest"`
	Nonce  []byte `json:"nonce"`
	Sealed []byte `json:"sealed"` // the oldest live day's key, sealed under the KEK
}

// Open loads the ratchet from path, or creates it with a fresh random key
// whose oldest live day is firstDay. kek seals the held key at rest.
func Open(path string, kek []byte, firstDay Day) (*Keys, error) {
	if len(kek) != 32 {
		return nil, errors.New("daykeys: the key-encryption key must be 32 bytes")
	}
	k := &Keys{path: path, kek: kek, cache: map[Day]*dayKey{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		k.oldest = firstDay
		if _, err := rand.Read(k.key[:]); err != nil {
			return nil, fmt.Errorf("daykeys: %w", err)
		}
		if err := k.save(); err != nil {
			return nil, err
		}
		return k, nil
	case err != nil:
		return nil, fmt.Errorf("daykeys: %w", err)
	}
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil || f.Magic != fileMagic {
		return nil, fmt.Errorf("daykeys: %s is not a day-key file", path)
	}
	if k.oldest, err = ParseDay(f.Oldest); err != nil {
		return nil, fmt.Errorf("daykeys: %s: %w", path, err)
	}
	a, _ := chacha20poly1305.NewX(kek)
	key, err := a.Open(nil, f.Nonce, f.Sealed, []byte(fileMagic+f.Oldest))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("daykeys: %s does not open with this province's key-encryption key", path)
	}
	copy(k.key[:], key)
	clear(key)
	return k, nil
}

func (k *Keys) save() error {
	a, _ := chacha20poly1305.NewX(k.kek)
	f := fileFormat{Magic: fileMagic, Oldest: k.oldest.String(), Nonce: make([]byte, a.NonceSize())}
	if _, err := rand.Read(f.Nonce); err != nil {
		return err
	}
	f.Sealed = a.Seal(nil, f.Nonce, k.key[:], []byte(fileMagic+f.Oldest))
	b, _ := json.Marshal(f)
	if err := atomicfile.Write(k.path, b, 0o600); err != nil {
		return fmt.Errorf("daykeys: save: %w", err)
	}
	return nil
}

// Oldest returns the oldest day whose key is still held.
func (k *Keys) Oldest() Day {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.oldest
}

func next(key [32]byte) [32]byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(nextLabel))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

func derive(key [32]byte, label string) [32]byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(label))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// get returns the purpose keys of day d.
func (k *Keys) get(d Day) (*dayKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d < k.oldest {
		return nil, fmt.Errorf("%s: %w", d, ErrDestroyed)
	}
	if dk, ok := k.cache[d]; ok {
		return dk, nil
	}
	key := k.key
	for range int(d - k.oldest) {
		key = next(key)
	}
	dk := &dayKey{tag: derive(key, tagLabel)}
	enc := derive(key, encLabel)
	dk.aead, _ = chacha20poly1305.NewX(enc[:])
	clear(key[:])
	clear(enc[:])
	if len(k.cache) > 64 {
		clear(k.cache)
	}
	k.cache[d] = dk
	return dk, nil
}

// Tag returns the lookup tag of a pseudonym on day d: HMAC(tag key of d,
// pseudonym), truncated to 16 bytes. Tags of different days do not link.
func (k *Keys) Tag(d Day, pseudonym [16]byte) ([16]byte, error) {
	dk, err := k.get(d)
	if err != nil {
		return [16]byte{}, err
	}
	m := hmac.New(sha256.New, dk.tag[:])
	m.Write(pseudonym[:])
	var sum [32]byte
	var out [16]byte
	copy(out[:], m.Sum(sum[:0]))
	return out, nil
}

// Seal encrypts plaintext (a pseudonym and pass details) for day d, bound
// to ad (the record's identity: device and sequence).
func (k *Keys) Seal(d Day, plaintext, ad []byte) ([]byte, error) {
	dk, err := k.get(d)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, dk.aead.NonceSize(), dk.aead.NonceSize()+len(plaintext)+dk.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return dk.aead.Seal(nonce, nonce, plaintext, ad), nil
}

// Open decrypts what Seal made for day d.
func (k *Keys) Open(d Day, sealed, ad []byte) ([]byte, error) {
	dk, err := k.get(d)
	if err != nil {
		return nil, err
	}
	n := dk.aead.NonceSize()
	if len(sealed) < n+dk.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := dk.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// DestroyThrough destroys the keys of every day up to and including d: the
// held key moves forward past d and the file is rewritten. Destroying a
// day already destroyed does nothing.
func (k *Keys) DestroyThrough(d Day) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d < k.oldest {
		return nil
	}
	key, oldest := k.key, k.oldest
	for oldest <= d {
		key = next(key)
		oldest++
	}
	prevKey, prevOldest := k.key, k.oldest
	k.key, k.oldest = key, oldest
	if err := k.save(); err != nil {
		k.key, k.oldest = prevKey, prevOldest
		return err
	}
	clear(prevKey[:])
	for day := range k.cache {
		if day < oldest {
			delete(k.cache, day)
		}
	}
	return nil
}

// AD returns the associated data that binds a sealed pseudonym to its
// record: device and sequence.
func AD(device string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(device), 0), seq)
}

// KeyMaterial returns the secret bytes behind day d — the day key and its
// two purpose keys — for audits and tests that prove they appear nowhere
// else. It fails with ErrDestroyed once the day is destroyed.
func (k *Keys) KeyMaterial(d Day) ([][]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d < k.oldest {
		return nil, fmt.Errorf("%s: %w", d, ErrDestroyed)
	}
	key := k.key
	for range int(d - k.oldest) {
		key = next(key)
	}
	tag, enc := derive(key, tagLabel), derive(key, encLabel)
	return [][]byte{key[:], tag[:], enc[:]}, nil
}

// FingerprintDay is the day whose key Fingerprint is taken of,
// 2100-01-01: far enough ahead that no live ratchet has destroyed it, so
// every copy of a ratchet can derive it whatever its oldest live day.
const FingerprintDay Day = 47482

// Fingerprint identifies the ratchet without revealing any key: an HMAC
// of FingerprintDay's key. Copies of one ratchet (a central's DATA/daykeys
// copied to another central) have the same fingerprint, at any oldest
// day; ratchets made apart have different ones. The central binds its
// store to it, so that check-ins are never sealed under two ratchets.
func (k *Keys) Fingerprint() ([32]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.oldest > FingerprintDay {
		return [32]byte{}, fmt.Errorf("fingerprint: %s: %w", FingerprintDay, ErrDestroyed)
	}
	key := k.key
	for range int(FingerprintDay - k.oldest) {
		key = next(key)
	}
	fp := derive(key, fpLabel)
	clear(key[:])
	return fp, nil
}

// QuarantineAD returns the associated data that binds a quarantined
// message, sealed under its day's key, to its SHA-256 (kept beside it).
func QuarantineAD(sum [32]byte) []byte {
	return append([]byte("anshim-quarantine-v1\x00"), sum[:]...)
}
