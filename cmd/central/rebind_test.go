package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/province"
)

// Ensure that a central whose DATA/daykeys is not the ratchet its store
// is bound to refuses to start, saying to copy the file, and that
// "central rebind-day-keys --yes" binds the store to the new ratchet,
// records it in the audit trail, and lets the central start.
func TestRebindDayKeys(t *testing.T) {
	dir := t.TempDir()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	keyDir, data := filepath.Join(dir, "keys"), filepath.Join(dir, "data")
	if err := keys.Save(keyDir); err != nil {
		t.Fatal(err)
	}
	cfg := central.Config{Data: data, Keys: keyDir}
	start := func() error {
		s, err := central.New(cfg, nil)
		if err == nil {
			s.Close()
		}
		return err
	}
	if err := start(); err != nil {
		t.Fatal(err)
	}
	if err := start(); err != nil {
		t.Fatalf("a restart with the same DATA/daykeys: %v", err)
	}

	// The ratchet lost: a new one would be made, and is refused.
	if err := os.Remove(filepath.Join(data, central.DayKeysFile)); err != nil {
		t.Fatal(err)
	}
	err = start()
	if !errors.Is(err, central.ErrDayKeysMismatch) {
		t.Fatalf("start with another DATA/daykeys: %v, want ErrDayKeysMismatch", err)
	}
	for _, want := range []string{"copy DATA/daykeys from a central running on this store", "rebind-day-keys"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error %q does not say %q", err, want)
		}
	}

	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := new(env).main(context.Background(), append([]string{"rebind-day-keys", "--data", data, "--keys", keyDir}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := run(); code != 2 || !strings.Contains(stderr, "--yes") {
		t.Errorf("without --yes: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := run("--yes")
	if code != 0 || !strings.Contains(stdout, "now bound to "+filepath.Join(data, central.DayKeysFile)) {
		t.Fatalf("rebind: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := run("--yes"); code != 0 || !strings.Contains(stdout, "nothing to replace") {
		t.Errorf("rebind again: exit %d\n%s", code, stdout)
	}
	if err := start(); err != nil {
		t.Fatalf("start after rebinding: %v", err)
	}
	st, err := central.OpenStore(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev, err := st.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ev {
		if e.Kind == store.AuditDayKeysRebound {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d day-keys-rebound events, want 1", n)
	}
}
