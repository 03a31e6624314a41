package pass

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/anshim/anshim/internal/atomicfile"
	"io/fs"
	"os"
	"slices"
	"sync"
)

// revocationListVersion is the version of the revocation list file format.
const revocationListVersion = 1

// RevocationList is a set of revocation ids (see [Pass.RevocationID]). It is
// safe for concurrent use; the zero value is an empty list.
//
// Its JSON form, as written by [RevocationList.Save], is
//
//	{"version":1,"revoked":["<id>", ...]}
//
// with the ids sorted.
type RevocationList struct {
	mu  sync.RWMutex
	ids map[revocationKey]struct{}
}

var _ Revocations = (*RevocationList)(nil)

// NewRevocationList returns a list holding ids.
func NewRevocationList(ids ...string) (*RevocationList, error) {
	l := new(RevocationList)
	for _, id := range ids {
		if err := l.Add(id); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// parseRevocationID parses the 32 lower-case hex digits of a revocation id.
func parseRevocationID(id string) (revocationKey, error) {
	var k revocationKey
	if len(id) != 2*len(k) {
		return k, fmt.Errorf("revocation id %q: want %d hex digits", id, 2*len(k))
	}
	if _, err := hex.Decode(k[:], []byte(id)); err != nil || hex.EncodeToString(k[:]) != id {
		return k, fmt.Errorf("revocation id %q: not lower-case hex", id)
	}
	return k, nil
}

// Add adds a revocation id to the list. Adding an id twice is not an error.
func (l *RevocationList) Add(id string) error {
	k, err := parseRevocationID(id)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids == nil {
		l.ids = make(map[revocationKey]struct{})
	}
	l.ids[k] = struct{}{}
	return nil
}

// Remove removes a revocation id from the list and reports whether it was
// there.
func (l *RevocationList) Remove(id string) bool {
	k, err := parseRevocationID(id)
	if err != nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.ids[k]
	delete(l.ids, k)
	return ok
}

// Contains reports whether a revocation id is in the list.
func (l *RevocationList) Contains(id string) bool {
	k, err := parseRevocationID(id)
	if err != nil {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.ids[k]
	return ok
}

// IsRevoked reports whether p's revocation id is in the list.
func (l *RevocationList) IsRevoked(p *Pass) bool {
	k := p.revocationKey()
	l.mu.RLock()
	_, ok := l.ids[k]
	l.mu.RUnlock()
	return ok
}

// Len returns the number of ids in the list.
func (l *RevocationList) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.ids)
}

// IDs returns the ids in the list, sorted.
func (l *RevocationList) IDs() []string {
	l.mu.RLock()
	ids := make([]string, 0, len(l.ids))
	for k := range l.ids {
		ids = append(ids, hex.EncodeToString(k[:]))
	}
	l.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// revocationListJSON is the file form of a RevocationList.
type revocationListJSON struct {
	Version int      `json:"version"`
	Revoked []string `json:"revoked"`
}

// MarshalJSON returns the versioned JSON form of the list, ids sorted.
func (l *RevocationList) MarshalJSON() ([]byte, error) {
	ids := l.IDs()
	return json.Marshal(revocationListJSON{Version: revocationListVersion, Revoked: ids})
}

// UnmarshalJSON replaces the contents of the list with the JSON form data.
// It rejects unknown versions and fields and malformed ids.
func (l *RevocationList) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f revocationListJSON
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("revocation list: %w", err)
	}
	if f.Version != revocationListVersion {
		return fmt.Errorf("revocation list: unsupported version %d (want %d)", f.Version, revocationListVersion)
	}
	ids := make(map[revocationKey]struct{}, len(f.Revoked))
	for i, id := range f.Revoked {
		k, err := parseRevocationID(id)
		if err != nil {
			return fmt.Errorf("revocation list: revoked[%d]: %w", i, err)
		}
		ids[k] = struct{}{}
	}
	l.mu.Lock()
	l.ids = ids
	l.mu.Unlock()
	return nil
}

// LoadRevocationList reads a revocation list file. A missing file is an
// empty list.
func LoadRevocationList(path string) (*RevocationList, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return new(RevocationList), nil
	}
	if err != nil {
		return nil, fmt.Errorf("load revocation list: %w", err)
	}
	l := new(RevocationList)
	if err := l.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("load revocation list %s: %w", path, err)
	}
	return l, nil
}

// Save writes the list to path, mode 0644, replacing the file atomically.
func (l *RevocationList) Save(path string) error {
	data, err := l.MarshalJSON()
	if err != nil {
		return fmt.Errorf("save revocation list: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("save revocation list: %w", err)
	}
	return nil
}
