package central

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
	if err := writeFileExcl(path, data, 0o600); err != nil {
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

// writeFileExcl creates path with data and mode, failing if it exists, and
// syncs it and its directory.
func writeFileExcl(path string, data []byte, mode fs.FileMode) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeFileAtomic replaces path with data and mode through a temporary
// file and a rename.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory, so that a new entry in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
