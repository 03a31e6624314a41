package layers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/anshim/anshim"

// Floors of the import rule (see the package doc).
const (
	ground  = "ground floor"
	kiosk   = "kiosk side"
	central = "central side"
	top     = "top"
)

// floors places the module's packages: a path names a package and every
// package under it; the longest matching path wins.
var floors = map[string]string{
	"checkin":   ground,
	"pass":      ground,
	"province":  ground,
	"sync/wire": ground,
	"venuecode": ground,
	"ledger":    ground,
	"internal":  ground,

	"kiosk":       kiosk,
	"hardware":    kiosk,
	"sync/uplink": kiosk,
	"cmd/kiosk":   kiosk,

	"central":     central,
	"sync/ingest": central,
	"notify":      central,
	"cmd/central": central,

	"cmd/anshim":     top,
	"internal/demo":  top,
	"sync/faulttest": top,
	"sync/syncbench": top,
	"docs":           top,
}

// allowed lists what each floor may import; the top may import anything.
var allowed = map[string][]string{
	ground:  {ground},
	kiosk:   {ground, kiosk},
	central: {ground, central},
	top:     {ground, kiosk, central, top},
}

// floorOf returns the floor of the module's package path (relative to the
// module), or "" when it is on none.
func floorOf(rel string) string {
	best, floor := -1, ""
	for p, f := range floors {
		if (rel == p || strings.HasPrefix(rel, p+"/")) && len(p) > best {
			best, floor = len(p), f
		}
	}
	return floor
}

// pkg is what the test reads of go list -json.
type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Module     *struct{ Path string }
}

// goList runs go list -deps -json on patterns and returns the packages.
func goList(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("go list needs the go command: %v", err)
	}
	// -e: a package that does not build (another file being edited) still
	// lists its imports.
	cmd := exec.Command("go", append([]string{"list", "-e", "-deps", "-json"}, patterns...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(patterns, " "), err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// rel returns path relative to the module, and whether it is in it.
func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// violations returns the imports of pkgs that break the rule, one line
// each ("kiosk side kiosk/x imports central side central/y"), and the
// module's packages on no floor.
func violations(pkgs []pkg) (bad, unplaced []string) {
	for _, p := range pkgs {
		from, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		ff := floorOf(from)
		if ff == "" {
			unplaced = append(unplaced, from)
			continue
		}
		for _, imp := range p.Imports {
			to, ok := rel(imp)
			if !ok {
				continue
			}
			tf := floorOf(to)
			if tf == "" || slices.Contains(allowed[ff], tf) {
				continue // an unplaced import is reported as unplaced
			}
			bad = append(bad, fmt.Sprintf("%s %s imports %s %s", ff, from, tf, to))
		}
	}
	slices.Sort(bad)
	slices.Sort(unplaced)
	return slices.Compact(bad), slices.Compact(unplaced)
}

// Ensure that no package of the module imports across the floors: the
// kiosk side never imports the central side nor the other way round, and
// the ground floor imports neither.
func TestImportRule(t *testing.T) {
	bad, unplaced := violations(goList(t, module+"/..."))
	for _, v := range bad {
		t.Errorf("import rule broken: %s", v)
	}
	for _, u := range unplaced {
		t.Errorf("package %s is on no floor: place it in floors (internal/layers/layers_test.go)", u)
	}
}

// Ensure that the kiosk binary links no package of the central side, and
// the ledger nothing but the standard library and golang.org/x/mod.
func TestLinks(t *testing.T) {
	for _, tt := range []struct {
		pkg string
		ok  func(p pkg) bool
		why string
	}{
		{"cmd/kiosk", func(p pkg) bool {
			r, in := rel(p.ImportPath)
			return !in || floorOf(r) != central
		}, "the central side"},
		{"ledger", func(p pkg) bool {
			if p.Standard || p.ImportPath == module+"/ledger" {
				return true
			}
			return p.Module != nil && p.Module.Path == "golang.org/x/mod"
		}, "anything but the standard library and golang.org/x/mod"},
	} {
		t.Run(tt.pkg, func(t *testing.T) {
			pkgs := goList(t, module+"/"+tt.pkg)
			if len(pkgs) < 2 {
				t.Fatalf("go list -deps %s listed %d packages", tt.pkg, len(pkgs))
			}
			for _, p := range pkgs {
				if !tt.ok(p) {
					t.Errorf("%s links %s, which is %s", tt.pkg, p.ImportPath, tt.why)
				}
			}
		})
	}
}

// Ensure that the check catches what it is for: a kiosk package importing
// the central, the central importing the kiosk, the ground floor importing
// either side, and a package on no floor.
func TestViolations(t *testing.T) {
	m := func(r string) string { return module + "/" + r }
	for _, tt := range []struct {
		name     string
		p        pkg
		bad      []string
		unplaced []string
	}{
		{"kiosk imports central", pkg{ImportPath: m("kiosk"), Imports: []string{m("central/store"), m("checkin"), "fmt"}},
			[]string{"kiosk side kiosk imports central side central/store"}, nil},
		{"kiosk/enroll imports kiosk", pkg{ImportPath: m("kiosk/enroll"), Imports: []string{m("kiosk")}}, nil, nil},
		{"an unplaced sync package", pkg{ImportPath: m("sync/enroll"), Imports: []string{m("kiosk")}}, nil, []string{"sync/enroll"}},
		{"central imports kiosk", pkg{ImportPath: m("central/appcheckin"), Imports: []string{m("kiosk/display"), m("venuecode")}},
			[]string{"central side central/appcheckin imports kiosk side kiosk/display"}, nil},
		{"ingest imports uplink", pkg{ImportPath: m("sync/ingest"), Imports: []string{m("sync/uplink")}},
			[]string{"central side sync/ingest imports kiosk side sync/uplink"}, nil},
		{"ledger imports the store", pkg{ImportPath: m("ledger"), Imports: []string{m("central/store")}},
			[]string{"ground floor ledger imports central side central/store"}, nil},
		{"wire imports the top", pkg{ImportPath: m("sync/wire"), Imports: []string{m("internal/demo")}},
			[]string{"ground floor sync/wire imports top internal/demo"}, nil},
		{"hardware imports central", pkg{ImportPath: m("hardware/scanner"), Imports: []string{m("sync/ingest")}},
			[]string{"kiosk side hardware/scanner imports central side sync/ingest"}, nil},
		{"the top imports both", pkg{ImportPath: m("cmd/anshim"), Imports: []string{m("central"), m("kiosk")}}, nil, nil},
		{"unplaced", pkg{ImportPath: m("gateway"), Imports: []string{m("central")}}, nil, []string{"gateway"}},
		{"outside the module", pkg{ImportPath: "golang.org/x/mod/sumdb/tlog", Imports: []string{m("central")}}, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad, unplaced := violations([]pkg{tt.p})
			if !slices.Equal(bad, tt.bad) || !slices.Equal(unplaced, tt.unplaced) {
				t.Errorf("violations = %q, %q; want %q, %q", bad, unplaced, tt.bad, tt.unplaced)
			}
		})
	}
}
