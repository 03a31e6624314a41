package pass

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Ensure that Add, Remove, Contains, IsRevoked and Len agree.
func TestRevocationList_AddRemove(t *testing.T) {
	var l RevocationList // the zero value is usable
	p := testPass()
	if l.IsRevoked(&p) || l.Len() != 0 {
		t.Fatal("empty list revokes")
	}
	id := p.RevocationID()
	if err := l.Add(id); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(id); err != nil {
		t.Fatal(err)
	}
	if !l.IsRevoked(&p) || !l.Contains(id) || l.Len() != 1 {
		t.Fatal("added id not revoked")
	}
	q := p
	q.Serial++
	if l.IsRevoked(&q) {
		t.Fatal("other serial revoked")
	}
	if !l.Remove(id) || l.Remove(id) || l.IsRevoked(&p) || l.Len() != 0 {
		t.Fatal("Remove did not remove exactly once")
	}
}

// Ensure that malformed ids are refused.
func TestRevocationList_Add_Invalid(t *testing.T) {
	var l RevocationList
	for _, id := range []string{"", "abc", strings.Repeat("g", 32), strings.Repeat("AB", 16), strings.Repeat("ab", 17)} {
		if err := l.Add(id); err == nil {
			t.Errorf("Add(%q) succeeded", id)
		}
		if l.Remove(id) || l.Contains(id) {
			t.Errorf("Remove/Contains(%q) true", id)
		}
	}
	if _, err := NewRevocationList("xyz"); err == nil {
		t.Error("NewRevocationList accepted a bad id")
	}
}

// Ensure that a saved list loads back, that the file is sorted and
// versioned, and that a missing file is an empty list.
func TestRevocationList_SaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "revoked.json")
	l, err := LoadRevocationList(path)
	if err != nil || l.Len() != 0 {
		t.Fatalf("missing file: %v, %d", err, l.Len())
	}
	ids := []string{strings.Repeat("ff", 16), strings.Repeat("00", 16), strings.Repeat("7a", 16)}
	for _, id := range ids {
		if err := l.Add(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"revoked":["` + ids[1] + `","` + ids[2] + `","` + ids[0] + `"]}` + "\n"
	if string(data) != want {
		t.Errorf("file = %s, want %s", data, want)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	l2, err := LoadRevocationList(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(l2.IDs(), ",") != strings.Join(l.IDs(), ",") {
		t.Errorf("loaded %v, want %v", l2.IDs(), l.IDs())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory has %d entries, want only the list", len(entries))
	}
}

// Ensure that malformed files are refused with an error naming the problem.
func TestRevocationList_Load_Invalid(t *testing.T) {
	for name, tt := range map[string]struct{ data, want string }{
		"not json":      {"revoked", "invalid character"},
		"version 2":     {`{"version":2,"revoked":[]}`, "unsupported version 2"},
		"no version":    {`{"revoked":[]}`, "unsupported version 0"},
		"unknown field": {`{"version":1,"revoked":[],"x":1}`, "unknown field"},
		"bad id":        {`{"version":1,"revoked":["` + strings.Repeat("ab", 16) + `","nope"]}`, "revoked[1]"},
	} {
		path := filepath.Join(t.TempDir(), "revoked.json")
		if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadRevocationList(path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tt.want)
		}
	}
}

// Ensure that the list can be read and changed at once (run with -race).
func TestRevocationList_Concurrent(t *testing.T) {
	var l RevocationList
	p := testPass()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 100 {
				q := p
				q.Serial = uint32(i*1000 + j)
				_ = l.Add(q.RevocationID())
				_ = l.IsRevoked(&p)
				_ = l.IDs()
			}
		})
	}
	wg.Wait()
	if l.Len() != 400 {
		t.Errorf("Len = %d, want 400", l.Len())
	}
}
