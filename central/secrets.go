package central

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/anshim/anshim/internal/atomicfile"
	"io/fs"
	"os"

	"github.com/nats-io/nkeys"
)

// loadOrCreateSecret returns the content of a secret file, first creating
// it, mode 0600, with make's result if it does not exist. It refuses a file
// that others can read.
func loadOrCreateSecret(path string, make func() ([]byte, error)) (data []byte, created bool, err error) {
	data, err = readSecret(path)
	if err == nil {
		return data, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	data, err = make()
	if err != nil {
		return nil, false, fmt.Errorf("create %s: %w", path, err)
	}
	if err := atomicfile.WriteExcl(path, data, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) { // made by a concurrent start
			data, err = readSecret(path)
			return data, false, err
		}
		return nil, false, err
	}
	return data, true, nil
}

// readSecret reads a secret file that only its owner may read.
func readSecret(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: mode %v lets others read a secret; chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	return data, nil
}

// newAdminToken returns a fresh admin token: 32 random bytes in hex.
func newAdminToken() ([]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(b[:]) + "\n"), nil
}

// newUserSeed returns the seed of a fresh NATS user nkey.
func newUserSeed() ([]byte, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, err
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, err
	}
	return append(seed, '\n'), nil
}

// loadUserKey reads the seed file of a NATS user nkey, creating it if
// missing.
func loadUserKey(path string) (nkeys.KeyPair, bool, error) {
	seed, created, err := loadOrCreateSecret(path, newUserSeed)
	if err != nil {
		return nil, false, fmt.Errorf("central NATS key: %w", err)
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return nil, false, fmt.Errorf("central NATS key %s: %w", path, err)
	}
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, false, fmt.Errorf("central NATS key %s: not a user seed (want SU…)", path)
	}
	return kp, created, nil
}
