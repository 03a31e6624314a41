package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/display"
	"github.com/anshim/anshim/sync/ingest"
	"github.com/anshim/anshim/sync/uplink"
)

// readConfigDoc returns docs/config.md.
func readConfigDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("config.md")
	if err != nil {
		t.Fatalf("read docs/config.md: %v", err)
	}
	return string(b)
}

// The config files: each struct, the section of config.md that documents
// it, and how its file is loaded and validated.
var configFiles = []struct {
	target docTarget
	typ    reflect.Type
	load   func(path string) error
}{
	{
		target: docTarget{marker: "`kiosk.Config`", source: "kiosk/config.go"},
		typ:    reflect.TypeFor[kiosk.Config](),
		load: func(path string) error {
			c, err := kiosk.LoadConfig(path)
			if err != nil {
				return err
			}
			return c.Validate()
		},
	},
	{
		target: docTarget{marker: "`central.Config`", source: "central/config.go"},
		typ:    reflect.TypeFor[central.Config](),
		load: func(path string) error {
			c, err := central.LoadConfig(path)
			if err != nil {
				return err
			}
			return c.Validate()
		},
	},
	{
		target: docTarget{marker: "`uplink.Settings`", source: "sync/uplink/settings.go"},
		typ:    reflect.TypeFor[uplink.Settings](),
		load: func(path string) error {
			_, err := uplink.LoadSettings(path)
			return err
		},
	},
}

// Ensure that every field of every config file has a row in config.md and
// every row names a field that exists.
func TestConfigDoc_Fields(t *testing.T) {
	doc := readConfigDoc(t)
	for _, cf := range configFiles {
		t.Run(strings.Trim(cf.target.marker, "`"), func(t *testing.T) {
			if n := len(jsonFields(cf.typ)); n == 0 {
				t.Fatalf("%s has no JSON fields: the test reads the wrong type", cf.typ)
			}
			for _, p := range checkFields(doc, cf.target, cf.typ) {
				t.Error(p)
			}
		})
	}
}

// Ensure that the sections about internal settings name only fields that
// exist.
func TestConfigDoc_Internal(t *testing.T) {
	doc := readConfigDoc(t)
	for _, tc := range []struct {
		target docTarget
		typ    reflect.Type
	}{
		{docTarget{"`display.Config`", "kiosk/display/display.go"}, reflect.TypeFor[display.Config]()},
		{docTarget{"`uplink.Config`", "sync/uplink/uplink.go"}, reflect.TypeFor[uplink.Config]()},
		{docTarget{"`ingest.Config`", "sync/ingest/ingest.go"}, reflect.TypeFor[ingest.Config]()},
		{docTarget{"`web.Options`", "central/web/web.go"}, reflect.TypeFor[web.Options]()},
	} {
		t.Run(strings.Trim(tc.target.marker, "`"), func(t *testing.T) {
			for _, p := range checkGoFieldNames(doc, tc.target, tc.typ) {
				t.Error(p)
			}
		})
	}
}

// Ensure that every flag of `kiosk run` and `central serve` is named in its
// command's section of config.md, and every flag named there exists.
func TestConfigDoc_Flags(t *testing.T) {
	doc := readConfigDoc(t)
	for _, tc := range []struct {
		target   docTarget
		dir      string // the command's package
		root     string // the function that parses its flags
		minFlags int    // fewer found means the test lost track of them
	}{
		{docTarget{"`kiosk run`", "cmd/kiosk/run.go"}, "../cmd/kiosk", "runRun", 8},
		{docTarget{"`central serve`", "cmd/central/serve.go and config.go"}, "../cmd/central", "runServe", 20},
	} {
		t.Run(strings.Trim(tc.target.marker, "`"), func(t *testing.T) {
			flags, err := commandFlags(tc.dir, tc.root)
			if err != nil {
				t.Fatalf("flags of %s: %v", tc.target.marker, err)
			}
			if len(flags) < tc.minFlags {
				t.Fatalf("found %d flags of %s, want at least %d: the flags moved out of %s.%s; update this test", len(flags), tc.target.marker, tc.minFlags, tc.dir, tc.root)
			}
			for _, p := range checkFlags(doc, tc.target, flags) {
				t.Error(p)
			}
		})
	}
}

// Ensure that every JSON example in config.md, and the example files
// shipped for installers, load and validate as the daemon loads them.
func TestConfigDoc_Examples(t *testing.T) {
	doc := readConfigDoc(t)
	for _, cf := range configFiles {
		t.Run(strings.Trim(cf.target.marker, "`"), func(t *testing.T) {
			sec, ok := section(doc, cf.target.marker)
			if !ok {
				t.Fatalf("docs/config.md: no heading names %s", cf.target.marker)
			}
			blocks := sec.jsonBlocks()
			if len(blocks) == 0 {
				t.Fatalf("docs/config.md, section %q: no ```json example: add one that %s loads", sec.title, cf.target.source)
			}
			for i, b := range blocks {
				path := filepath.Join(t.TempDir(), fmt.Sprintf("example%d.json", i+1))
				if err := os.WriteFile(path, []byte(b), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := cf.load(path); err != nil {
					t.Errorf("docs/config.md, section %q, JSON example %d does not load: %v\n%s", sec.title, i+1, err, b)
				}
			}
		})
	}
	for _, tc := range []struct {
		path   string
		marker string // the section of config.md that shows the file
		load   func(string) error
	}{
		{"../systemd/kiosk.json.example", "`kiosk.Config`", configFiles[0].load},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			if err := tc.load(tc.path); err != nil {
				t.Errorf("%s does not load as the kiosk loads it: %v (fix the example to match docs/config.md)", tc.path, err)
			}
			b, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			sec, _ := section(doc, tc.marker)
			for _, block := range sec.jsonBlocks() {
				if strings.TrimSpace(block) == strings.TrimSpace(string(b)) {
					return
				}
			}
			t.Errorf("docs/config.md, section %q, shows no JSON example equal to %s: copy the file into a ```json block there", sec.title, tc.path)
		})
	}
}
