package province

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/box"
	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/pass"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// testRand returns a deterministic randomness source.
func testRand(seed byte) io.Reader {
	return mathrand.NewChaCha8([32]byte{seed})
}

// generate returns deterministic test keys.
func generate(t *testing.T, seed byte) *Keys {
	t.Helper()
	k, err := Generate(testRand(seed), "jeju")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Ensure that Generate with a fixed randomness source makes the golden
// bundle, so that the key derivations and the bundle format are pinned.
func TestGenerate_Golden(t *testing.T) {
	k := generate(t, 1)
	got, err := k.bundleFile()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "public.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("bundle:\n%s\nwant:\n%s", got, want)
	}
	b := k.Bundle()
	if b.PassPublicKeys[0].ID != pass.KeyIDOf(b.PassPublicKeys[0].Key) {
		t.Error("pass key id is not KeyIDOf the key")
	}
	if len(b.SealingKeyID) != 8 {
		t.Errorf("sealing key id %q", b.SealingKeyID)
	}
}

// Ensure that Generate refuses names that cannot be note key names.
func TestGenerate_BadName(t *testing.T) {
	for _, name := range []string{"", "je ju", "je+ju", "제주", strings.Repeat("a", 65), "a/b"} {
		if _, err := Generate(rand.Reader, name); err == nil {
			t.Errorf("Generate(%q) succeeded", name)
		}
	}
	if _, err := Generate(bytes.NewReader(make([]byte, 40)), "jeju"); err == nil {
		t.Error("Generate with too little randomness succeeded")
	}
	if _, err := Generate(nil, "jeju.go.kr"); err != nil {
		t.Errorf("Generate(nil rand): %v", err)
	}
}

// Ensure that Save writes the files with the right modes, refuses to write
// twice, and that Load reads the same keys back.
func TestKeys_SaveLoad(t *testing.T) {
	k := generate(t, 2)
	dir := filepath.Join(t.TempDir(), "keys")
	if err := k.Save(dir); err != nil {
		t.Fatal(err)
	}
	wantModes := map[string]fs.FileMode{
		".": 0o700 | fs.ModeDir, PassKeyFile: 0o600, SealingKeyFile: 0o600, LedgerKeyFile: 0o600,
		KEKFile: 0o600, RootKeyFile: 0o600, BundleFile: 0o644,
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(wantModes)-1 {
		t.Errorf("%d files in the key directory, want %d", len(entries), len(wantModes)-1)
	}
	for name, want := range wantModes {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != want {
			t.Errorf("%s: mode %v, want %v", name, got, want)
		}
	}

	err = k.Save(dir)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Save: %v, want fs.ErrExist", err)
	}
	if err := generate(t, 3).Save(dir); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Save of other keys: %v, want fs.ErrExist", err)
	}

	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertSameKeys(t, l, k)
	b, err := LoadBundle(filepath.Join(dir, BundleFile))
	if err != nil {
		t.Fatal(err)
	}
	assertSameBundle(t, b, k.Bundle())
}

func assertSameKeys(t *testing.T, got, want *Keys) {
	t.Helper()
	if got.Name() != want.Name() || *got.KEK() != *want.KEK() ||
		*got.SealingPrivateKey() != *want.SealingPrivateKey() ||
		!got.Signer().Private.Equal(want.Signer().Private) ||
		got.LedgerVerifierKey() != want.LedgerVerifierKey() ||
		len(got.passKeys) != len(want.passKeys) {
		t.Errorf("keys differ: %v, want %v", got, want)
	}
	assertSameBundle(t, got.Bundle(), want.Bundle())
}

func assertSameBundle(t *testing.T, got, want *Bundle) {
	t.Helper()
	g, _ := got.MarshalJSON()
	w, _ := want.MarshalJSON()
	if !bytes.Equal(g, w) {
		t.Errorf("bundle %s, want %s", g, w)
	}
}

// Ensure that Load refuses key files that others can read or that were
// changed.
func TestLoad_Invalid(t *testing.T) {
	k := generate(t, 4)
	files := k.keyFiles()
	tests := []struct {
		name   string
		change func(dir string)
		want   string
	}{
		{"missing file", func(dir string) { os.Remove(filepath.Join(dir, KEKFile)) }, "no such file"},
		{"readable by others", func(dir string) { os.Chmod(filepath.Join(dir, SealingKeyFile), 0o644) }, "too open"},
		{"directory", func(dir string) {
			os.Remove(filepath.Join(dir, LedgerKeyFile))
			os.Mkdir(filepath.Join(dir, LedgerKeyFile), 0o700)
		}, "not a regular file"},
		{"wrong header", func(dir string) {
			rewrite(dir, PassKeyFile, func(s string) string { return strings.Replace(s, "v1", "v2", 1) })
		}, "first line"},
		{"no final newline", func(dir string) {
			rewrite(dir, KEKFile, func(s string) string { return strings.TrimSuffix(s, "\n") })
		}, "truncated"},
		{"no key", func(dir string) { rewrite(dir, KEKFile, func(string) string { return kekHeader + "\n" }) }, "no key"},
		{"wrong pass key id", func(dir string) {
			rewrite(dir, PassKeyFile, func(s string) string {
				return strings.Replace(s, fmt.Sprintf("%08x", k.PassKeys()[0].ID), "00000000", 1)
			})
		}, "canonical"},
		{"wrong sealing key id", func(dir string) {
			rewrite(dir, SealingKeyFile, func(s string) string { return strings.Replace(s, k.SealingKeyID(), "00000000", 1) })
		}, "canonical"},
		{"bad base64", func(dir string) {
			rewrite(dir, KEKFile, func(s string) string { return kekHeader + "\nnot base64!\n" })
		}, KEKFile},
		{"short seed", func(dir string) {
			rewrite(dir, PassKeyFile, func(s string) string { return passKeyHeader + "\n00000000 AAAA\n" })
		}, "line 2"},
		{"repeated pass key", func(dir string) {
			rewrite(dir, PassKeyFile, func(s string) string { return s + strings.SplitN(s, "\n", 2)[1] })
		}, "repeats"},
		{"bad ledger key", func(dir string) {
			rewrite(dir, LedgerKeyFile, func(s string) string { return ledgerKeyHeader + "\nPRIVATE+KEY+x\n" })
		}, LedgerKeyFile},
		{"trailing blank line", func(dir string) {
			rewrite(dir, SealingKeyFile, func(s string) string { return s + "\n" })
		}, SealingKeyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := k.Save(dir); err != nil {
				t.Fatal(err)
			}
			tt.change(dir)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v, want an error containing %q", err, tt.want)
			}
			for _, f := range files {
				if err != nil && strings.Contains(err.Error(), strings.TrimSpace(strings.SplitN(string(f.data), "\n", 3)[1])) {
					t.Errorf("error reveals a secret key: %v", err)
				}
			}
		})
	}
}

// rewrite changes a key file in place, keeping its mode.
func rewrite(dir, name string, f func(string) string) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, []byte(f(string(data))), 0o600); err != nil {
		panic(err)
	}
}

// Ensure that a rotation adds a current key, keeps the old ones valid, and
// is saved by Update but not by Save.
func TestKeys_RotatePassKey(t *testing.T) {
	k := generate(t, 5)
	dir := t.TempDir()
	if err := k.Save(dir); err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	p := pass.Pass{Kind: pass.KindApp, Issued: issued, Expires: issued.AddDate(1, 0, 0)}
	oldText, err := k.Signer().Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	oldID := k.Signer().PublicKey().ID

	newKey, err := k.RotatePassKey(testRand(50))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Signer().PublicKey(); got.ID != newKey.ID || got.ID == oldID {
		t.Fatalf("current key %08x, want the new key %08x", got.ID, newKey.ID)
	}
	keys := k.PassKeys()
	if len(keys) != 2 || keys[0].ID != oldID || keys[1].ID != newKey.ID {
		t.Fatalf("PassKeys = %v", keys)
	}
	if err := k.Save(dir); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Save after rotation: %v, want fs.ErrExist", err)
	}
	if err := k.Update(dir); err != nil {
		t.Fatal(err)
	}
	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertSameKeys(t, l, k)
	b, err := LoadBundle(filepath.Join(dir, BundleFile))
	if err != nil {
		t.Fatal(err)
	}
	newText, err := l.Signer().Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	v := b.PassVerifier(nil)
	for _, text := range []string{oldText, newText} {
		if _, err := v.Verify(text, issued); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
	for _, name := range []string{PassKeyFile, BundleFile} {
		fi, _ := os.Stat(filepath.Join(dir, name))
		if want := map[string]fs.FileMode{PassKeyFile: 0o600, BundleFile: 0o644}[name]; fi.Mode() != want {
			t.Errorf("%s: mode %v after Update, want %v", name, fi.Mode(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 6 {
		t.Errorf("%d files after Update, want 6", len(entries))
	}
}

// Ensure that Update never overwrites another province's keys, nor a newer
// state of the same keys.
func TestKeys_Update_Refuses(t *testing.T) {
	dir := t.TempDir()
	saved := generate(t, 6)
	if err := saved.Save(dir); err != nil {
		t.Fatal(err)
	}
	other := generate(t, 7)
	if err := other.Update(dir); err == nil {
		t.Error("Update with other keys succeeded")
	}
	renamed, err := Generate(testRand(6), "busan")
	if err != nil {
		t.Fatal(err)
	}
	if err := renamed.Update(dir); err == nil || !strings.Contains(err.Error(), "busan") {
		t.Errorf("Update with another name: %v", err)
	}
	if _, err := saved.RotatePassKey(nil); err != nil {
		t.Fatal(err)
	}
	if err := saved.Update(dir); err != nil {
		t.Fatal(err)
	}
	stale := generate(t, 6)
	if err := stale.Update(dir); err == nil {
		t.Error("Update with fewer pass keys succeeded")
	}
	if _, err := stale.RotatePassKey(testRand(99)); err != nil {
		t.Fatal(err)
	}
	if err := stale.Update(dir); err == nil {
		t.Error("Update with a different second pass key succeeded")
	}
	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	assertSameKeys(t, l, saved)
	if err := saved.Update(t.TempDir()); err == nil {
		t.Error("Update of an empty directory succeeded")
	}
}

// Ensure that the sealing and ledger keys work with the libraries that use
// them, across the public bundle.
func TestKeys_SealingAndLedger(t *testing.T) {
	k := generate(t, 8)
	b := k.Bundle()
	sealed, err := box.SealAnonymous(nil, []byte("record"), b.SealingPublicKey(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	opened, ok := box.OpenAnonymous(nil, sealed, k.SealingPublicKey(), k.SealingPrivateKey())
	if !ok || string(opened) != "record" {
		t.Fatal("sealed record does not open with the sealing private key")
	}
	s, err := k.LedgerSigner()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: "checkpoint\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.NoteVerifier()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Errorf("checkpoint does not verify: %v", err)
	}
	if v.Name() != "jeju" {
		t.Errorf("ledger key name %q", v.Name())
	}
}

// Ensure that printing keys reveals no secret.
func TestKeys_String(t *testing.T) {
	k := generate(t, 9)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v", k, k, k)} {
		for _, f := range k.keyFiles() {
			secret := strings.Fields(strings.SplitN(string(f.data), "\n", 3)[1])
			if strings.Contains(s, secret[len(secret)-1]) {
				t.Errorf("%q reveals %s", s, f.name)
			}
		}
	}
}

// Ensure that a bundle survives JSON, and that decoding names the field of
// each problem.
func TestBundle_JSON(t *testing.T) {
	k := generate(t, 10)
	if _, err := k.RotatePassKey(testRand(11)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bundle.json")
	if err := k.Bundle().Save(path); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBundle(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameBundle(t, b, k.Bundle())
	if keys := b.PassKeys(); len(keys) != 2 || keys[1].ID != k.Signer().PublicKey().ID {
		t.Errorf("PassKeys = %v", keys)
	}

	good, _ := k.Bundle().MarshalJSON()
	other, _ := generate(t, 12).Bundle().MarshalJSON()
	var gm, om map[string]any
	json.Unmarshal(good, &gm)
	json.Unmarshal(other, &om)
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"version 2", func(m map[string]any) { m["version"] = 2 }, "version: unsupported version 2"},
		{"no version", func(m map[string]any) { delete(m, "version") }, "version"},
		{"unknown field", func(m map[string]any) { m["extra"] = 1 }, "unknown field"},
		{"no province", func(m map[string]any) { m["province"] = "" }, "province"},
		{"no pass keys", func(m map[string]any) { m["pass_keys"] = []any{} }, "pass_keys"},
		{"pass key not base64", func(m map[string]any) {
			m["pass_keys"].([]any)[1].(map[string]any)["public_key"] = "!!"
		}, "pass_keys[1].public_key"},
		{"pass key short", func(m map[string]any) {
			m["pass_keys"].([]any)[0].(map[string]any)["public_key"] = "AAAA"
		}, "pass_keys[0].public_key"},
		{"pass key id not hex", func(m map[string]any) {
			m["pass_keys"].([]any)[0].(map[string]any)["id"] = "xyz"
		}, "pass_keys[0].id"},
		{"pass key id mismatch", func(m map[string]any) {
			m["pass_keys"].([]any)[1].(map[string]any)["id"] = "00000000"
		}, "pass_keys[1].id"},
		{"pass key repeated", func(m map[string]any) {
			keys := m["pass_keys"].([]any)
			m["pass_keys"] = append(keys, keys[0])
		}, "pass_keys[2].id"},
		{"sealing key short", func(m map[string]any) { m["sealing_key"] = "AAAA" }, "sealing_key"},
		{"sealing key id mismatch", func(m map[string]any) { m["sealing_key_id"] = om["sealing_key_id"] }, "sealing_key_id"},
		{"ledger verifier bad", func(m map[string]any) { m["ledger_verifier"] = "jeju+00+x" }, "ledger_verifier"},
		{"ledger verifier of another name", func(m map[string]any) { m["province"] = "busan" }, "ledger_verifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			json.Unmarshal(good, &m)
			tt.change(m)
			data, _ := json.Marshal(m)
			var b Bundle
			err := json.Unmarshal(data, &b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Unmarshal: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	var b2 Bundle
	if err := b2.UnmarshalJSON(append(good, []byte(" {}")...)); err == nil {
		t.Error("trailing data accepted")
	}
	if err := (&Bundle{Version: 1}).Save(path); err == nil {
		t.Error("Save of an empty bundle succeeded")
	}
	if _, err := LoadBundle(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadBundle(missing): %v", err)
	}
}
