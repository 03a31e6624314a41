package province

import (
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/anshim/anshim/internal/atomicfile"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/pass"
)

// The files of a key directory.
const (
	// PassKeyFile holds the pass-signing keys, oldest first.
	PassKeyFile = "pass-signing.key"
	// SealingKeyFile holds the record-sealing X25519 private key.
	SealingKeyFile = "sealing.key"
	// LedgerKeyFile holds the ledger signing key in note format.
	LedgerKeyFile = "ledger.key"
	// KEKFile holds the key-encryption key.
	KEKFile = "kek.key"
	// RootKeyFile holds the root signing key, which signs key updates. Key
	// directories made before it existed lack it: `anshim keygen --add-root`.
	RootKeyFile = "root.key"
	// BundleFile is the public bundle, readable by all.
	BundleFile = "public.json"
)

// The first lines of the key files.
const (
	passKeyHeader    = "anshim pass-signing keys v1"
	sealingKeyHeader = "anshim sealing key v1"
	ledgerKeyHeader  = "anshim ledger signing key v1"
	kekHeader        = "anshim key-encryption key v1"
	rootKeyHeader    = "anshim root signing key v1"
)

// keyFile is the name and contents of one secret key file.
type keyFile struct {
	name string
	data []byte
}

// keyFiles returns the secret key files of k.
func (k *Keys) keyFiles() []keyFile {
	b64 := base64.StdEncoding.EncodeToString
	var p strings.Builder
	p.WriteString(passKeyHeader + "\n")
	for _, priv := range k.passKeys {
		fmt.Fprintf(&p, "%08x %s\n", pass.KeyIDOf(priv.Public().(ed25519.PublicKey)), b64(priv.Seed()))
	}
	files := []keyFile{
		{PassKeyFile, []byte(p.String())},
		{SealingKeyFile, []byte(sealingKeyHeader + "\n" + k.SealingKeyID() + " " + b64(k.sealingPriv[:]) + "\n")},
		{LedgerKeyFile, []byte(ledgerKeyHeader + "\n" + k.ledgerKey + "\n")},
		{KEKFile, []byte(kekHeader + "\n" + b64(k.kek[:]) + "\n")},
	}
	if k.root != nil {
		files = append(files, keyFile{RootKeyFile, []byte(rootKeyHeader + "\n" + k.RootKeyID() + " " + b64(k.root.Seed()) + "\n")})
	}
	return files
}

// bundleFile returns the contents of the public bundle file.
func (k *Keys) bundleFile() ([]byte, error) {
	return k.Bundle().marshalFile()
}

// Save writes the keys to dir, creating it with mode 0700: each secret key
// file with mode 0600 and the public bundle [BundleFile] with mode 0644. It
// refuses, with an error matching [fs.ErrExist], to write into a directory
// that already holds any of these files: use [Keys.Update] after a rotation.
func (k *Keys) Save(dir string) error {
	files := k.keyFiles()
	bundle, err := k.bundleFile()
	if err != nil {
		return fmt.Errorf("save province keys: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save province keys: %w", err)
	}
	for _, name := range []string{PassKeyFile, SealingKeyFile, LedgerKeyFile, KEKFile, RootKeyFile, BundleFile} {
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("save province keys: %s: %w", path, fs.ErrExist)
		}
	}
	for _, f := range files {
		if err := atomicfile.WriteExcl(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return fmt.Errorf("save province keys: %w", err)
		}
	}
	if err := atomicfile.WriteExcl(filepath.Join(dir, BundleFile), bundle, 0o644); err != nil {
		return fmt.Errorf("save province keys: %w", err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("save province keys: %w", err)
	}
	return nil
}

// Update rewrites the pass-signing keys and the public bundle in dir after
// [Keys.RotatePassKey], and writes the root key after [Keys.AddRootKey]
// (the root key file first, then the bundle that names it). It checks first that dir holds an earlier state of
// the same province keys: the same name, sealing, ledger and key-encryption
// keys, and pass keys that k still holds in the same order. Keys of another
// province are never overwritten. The bundle is written before the secret
// keys, so that a crash in between leaves a bundle that still verifies every
// pass the saved keys can sign.
func (k *Keys) Update(dir string) error {
	old, err := Load(dir)
	if err != nil {
		return fmt.Errorf("update province keys: %w", err)
	}
	if err := old.isEarlierStateOf(k); err != nil {
		return fmt.Errorf("update province keys in %s: %w", dir, err)
	}
	bundle, err := k.bundleFile()
	if err != nil {
		return fmt.Errorf("update province keys: %w", err)
	}
	if k.root != nil && old.root == nil {
		f := k.keyFiles()[4]
		if err := atomicfile.WriteExcl(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return fmt.Errorf("update province keys: %w", err)
		}
	}
	if err := atomicfile.Write(filepath.Join(dir, BundleFile), bundle, 0o644); err != nil {
		return fmt.Errorf("update province keys: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, PassKeyFile), k.keyFiles()[0].data, 0o600); err != nil {
		return fmt.Errorf("update province keys: %w", err)
	}
	return nil
}

// isEarlierStateOf checks that k can be replaced by newer.
func (k *Keys) isEarlierStateOf(newer *Keys) error {
	switch {
	case k.name != newer.name:
		return fmt.Errorf("the keys there are of province %q, not %q", k.name, newer.name)
	case subtle.ConstantTimeCompare(k.sealingPriv[:], newer.sealingPriv[:]) != 1,
		subtle.ConstantTimeCompare([]byte(k.ledgerKey), []byte(newer.ledgerKey)) != 1,
		subtle.ConstantTimeCompare(k.kek[:], newer.kek[:]) != 1:
		return errors.New("the keys there are other keys of the same province name")
	case k.root != nil && !k.root.Equal(newer.root):
		return errors.New("the keys there have another root signing key")
	case len(k.passKeys) > len(newer.passKeys):
		return errors.New("the keys there have more pass-signing keys")
	}
	for i, priv := range k.passKeys {
		if !priv.Equal(newer.passKeys[i]) {
			return fmt.Errorf("the keys there have another pass-signing key #%d", i+1)
		}
	}
	return nil
}

// Load reads the secret keys that [Keys.Save] wrote to dir. It refuses key
// files that group or others can access, and files that are not exactly in
// the format Save writes. The public bundle is not read: it is derived from
// the keys. A directory without [RootKeyFile] (made before it existed)
// loads, with no root key.
func Load(dir string) (*Keys, error) {
	files := make(map[string]string)
	for _, name := range []string{PassKeyFile, SealingKeyFile, LedgerKeyFile, KEKFile, RootKeyFile} {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if name == RootKeyFile && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load province keys: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("load province keys: %s: not a regular file", path)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("load province keys: %s: permissions %#o are too open (want 0600)", path, perm)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load province keys: %w", err)
		}
		files[name] = string(data)
	}
	k, err := parseKeyFiles(files)
	if err != nil {
		return nil, fmt.Errorf("load province keys from %s: %w", dir, err)
	}
	return k, nil
}

// keyLines checks the first line of a key file and returns the lines after
// it.
func keyLines(name, data, header string) ([]string, error) {
	if !strings.HasSuffix(data, "\n") {
		return nil, fmt.Errorf("%s: truncated (no final newline)", name)
	}
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	if lines[0] != header {
		return nil, fmt.Errorf("%s: first line is not %q", name, header)
	}
	if len(lines) < 2 {
		return nil, fmt.Errorf("%s: no key", name)
	}
	return lines[1:], nil
}

// parseKeyFiles decodes the contents of the key files, by file name.
func parseKeyFiles(files map[string]string) (*Keys, error) {
	k := new(Keys)
	b64 := base64.StdEncoding.Strict().DecodeString

	lines, err := keyLines(LedgerKeyFile, files[LedgerKeyFile], ledgerKeyHeader)
	if err != nil {
		return nil, err
	}
	s, err := note.NewSigner(lines[0])
	if err == nil {
		_, err = ledgerVerifierKey(lines[0])
	}
	if err == nil {
		err = checkName(s.Name())
	}
	if len(lines) != 1 || err != nil {
		return nil, fmt.Errorf("%s: want one line with a note signer key: %v", LedgerKeyFile, err)
	}
	k.name, k.ledgerKey = s.Name(), lines[0]

	if lines, err = keyLines(PassKeyFile, files[PassKeyFile], passKeyHeader); err != nil {
		return nil, err
	}
	seen := make(map[uint32]bool)
	for i, line := range lines {
		_, key, ok := strings.Cut(line, " ")
		seed, err := b64(key)
		if !ok || err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("%s: line %d: want a key id and a base64 Ed25519 seed", PassKeyFile, i+2)
		}
		priv := ed25519.NewKeyFromSeed(seed)
		id := pass.KeyIDOf(priv.Public().(ed25519.PublicKey))
		if seen[id] {
			return nil, fmt.Errorf("%s: line %d: key %08x repeats", PassKeyFile, i+2, id)
		}
		seen[id] = true
		k.passKeys = append(k.passKeys, priv)
	}

	if lines, err = keyLines(SealingKeyFile, files[SealingKeyFile], sealingKeyHeader); err != nil {
		return nil, err
	}
	_, key, ok := strings.Cut(lines[0], " ")
	priv, err := b64(key)
	if len(lines) != 1 || !ok || err != nil || len(priv) != 32 {
		return nil, fmt.Errorf("%s: want one line with a key id and a base64 X25519 key", SealingKeyFile)
	}
	copy(k.sealingPriv[:], priv)
	pub, err := curve25519.X25519(k.sealingPriv[:], curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SealingKeyFile, err)
	}
	copy(k.sealingPub[:], pub)

	if lines, err = keyLines(KEKFile, files[KEKFile], kekHeader); err != nil {
		return nil, err
	}
	kek, err := b64(lines[0])
	if len(lines) != 1 || err != nil || len(kek) != 32 {
		return nil, fmt.Errorf("%s: want one line with a base64 32-byte key", KEKFile)
	}
	copy(k.kek[:], kek)

	if data, ok := files[RootKeyFile]; ok {
		if lines, err = keyLines(RootKeyFile, data, rootKeyHeader); err != nil {
			return nil, err
		}
		_, key, ok := strings.Cut(lines[0], " ")
		seed, err := b64(key)
		if len(lines) != 1 || !ok || err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("%s: want one line with a key id and a base64 Ed25519 seed", RootKeyFile)
		}
		k.root = ed25519.NewKeyFromSeed(seed)
	}

	// Each file must be exactly what Save would write: this also checks the
	// key ids written beside the keys.
	for _, f := range k.keyFiles() {
		if string(f.data) != files[f.name] {
			return nil, fmt.Errorf("%s: not in canonical form (a key id does not match its key?)", f.name)
		}
	}
	return k, nil
}
