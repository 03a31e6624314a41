package registry

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpus under testdata/fuzz")

// Ensure that the checked-in seed corpora match the seeds that the code
// makes; run with -update-corpus to rewrite them.
func TestFuzzCorpus(t *testing.T) {
	checkCorpus(t, "FuzzParseBusinessNumber", businessNumberSeeds())
}

func checkCorpus(t *testing.T, target string, seeds map[string]string) {
	dir := filepath.Join("testdata", "fuzz", target)
	for name, seed := range seeds {
		path := filepath.Join(dir, name)
		want := fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", seed)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is out of date (%v): run go test -run TestFuzzCorpus -update-corpus", path, err)
		}
	}
}
