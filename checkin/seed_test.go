package checkin

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Ensure that the checked-in seed corpus holds a valid record, so the
// fuzzer starts from the real format. Regenerate with -update-seeds.
func TestFuzzDecodeSeeds(t *testing.T) {
	r := sampleRecord()
	good, _ := r.MarshalBinary()
	path := filepath.Join("testdata", "fuzz", "FuzzDecode", "valid-record")
	want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", good)
	if os.Getenv("UPDATE_SEEDS") != "" {
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(want), 0o644)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("seed %s missing or stale (run with UPDATE_SEEDS=1): %v", path, err)
	}
}
