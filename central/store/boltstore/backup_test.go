package boltstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// Ensure that a backup is told its size before the bytes, writes that
// many, opens as a store holding what the original held, and that a
// backup whose context ended fails with the context's error.
func TestBackup(t *testing.T) {
	dir := t.TempDir()
	s := openChecked(t, filepath.Join(dir, "central.db"))
	defer s.Close()
	ctx := context.Background()
	created := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	if err := s.AddVenue(ctx, store.Venue{ID: "v-1", Name: "한라카페", Created: created}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	announced := int64(-1)
	n, err := s.Backup(ctx, func(size int64) io.Writer { announced = size; return &buf })
	if err != nil || n != announced || int64(buf.Len()) != n {
		t.Fatalf("Backup = %d, %v; announced %d, wrote %d", n, err, announced, buf.Len())
	}
	path := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := openChecked(t, path)
	defer c.Close()
	if v, err := c.Venue(ctx, "v-1"); err != nil || v.Name != "한라카페" {
		t.Errorf("the copy's venue: %+v, %v", v, err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Backup(cancelled, func(int64) io.Writer { return io.Discard }); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup with its context ended: %v, want context.Canceled", err)
	}
}
