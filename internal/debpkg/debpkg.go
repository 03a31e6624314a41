// Package debpkg builds Anshim's Debian packages with nfpm as a library
// (github.com/goreleaser/nfpm/v2): anshim-kiosk (the kiosk daemon, its
// unit and example configuration) and anshim-central (the central server,
// the operator tool, the central's unit and the NATS cluster
// configuration as examples), for amd64, arm64 and armhf. Each package
// makes the system user anshim and its data directory in its maintainer
// scripts. `make deb` runs it through internal/debpkg/mkdeb.
package debpkg

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// Arch is a target architecture: its Debian name and how Go builds for it.
type Arch struct {
	Deb    string // Debian architecture: amd64, arm64, armhf
	GOARCH string
	GOARM  string // for armhf: 7 (Raspberry Pi 2 and later in 32-bit mode)
}

// Arches are the architectures packages are built for.
var Arches = []Arch{
	{Deb: "amd64", GOARCH: "amd64"},
	{Deb: "arm64", GOARCH: "arm64"},
	{Deb: "armhf", GOARCH: "arm", GOARM: "7"},
}

// ArchByName returns the architecture of a Debian name.
func ArchByName(name string) (Arch, error) {
	for _, a := range Arches {
		if a.Deb == name {
			return a, nil
		}
	}
	return Arch{}, fmt.Errorf("debpkg: unknown architecture %q (want amd64, arm64 or armhf)", name)
}

// File is one file of a package, from the repository or a built binary.
type File struct {
	Src  string // path relative to the repository root; "bin:NAME" is the built command NAME
	Dst  string // absolute path on the target system
	Mode os.FileMode
	// Conf marks a configuration file (a dpkg conffile: an edited copy
	// is kept on upgrade and removed only on purge).
	Conf bool
}

// Package describes one package.
type Package struct {
	Name        string
	Description string
	Commands    []string // the commands under cmd/ the package ships
	Files       []File
	Depends     []string
	Recommends  []string
	Suggests    []string
	// Unit is the systemd unit the maintainer scripts manage.
	Unit string
	// Data is the data directory the postinst makes, owned by anshim,
	// with DataMode (the same as the unit's StateDirectoryMode=).
	Data     string
	DataMode string
	// Groups are the groups the anshim user joins where they exist.
	Groups []string
	// Enable enables and starts the unit at installation.
	Enable bool
	// PurgeData deletes Data on purge.
	PurgeData bool
}

// Packages are Anshim's packages.
var Packages = []Package{
	{
		Name: "anshim-kiosk",
		Description: "Anshim venue check-in kiosk\n" +
			" The offline-first kiosk daemon of Anshim: reads passes from USB scanners,\n" +
			" verifies them offline, commits each check-in to a signed outbox and syncs\n" +
			" it to the province's central over NATS. Provision with 'kiosk init' or\n" +
			" 'kiosk enroll'; the service starts once the device is provisioned.",
		Commands: []string{"kiosk"},
		Files: []File{
			{Src: "bin:kiosk", Dst: "/usr/bin/kiosk", Mode: 0o755},
			{Src: "systemd/anshim-kiosk.service", Dst: "/usr/lib/systemd/system/anshim-kiosk.service", Mode: 0o644},
			{Src: "systemd/kiosk.json.example", Dst: "/etc/anshim/kiosk.json", Mode: 0o644, Conf: true},
			{Src: "firmware-notes/README.md", Dst: "/usr/share/doc/anshim-kiosk/README.md", Mode: 0o644},
			{Src: "firmware-notes/wiring.svg", Dst: "/usr/share/doc/anshim-kiosk/wiring.svg", Mode: 0o644},
			{Src: "docs/config.md", Dst: "/usr/share/doc/anshim-kiosk/config.md", Mode: 0o644},
		},
		Depends:    []string{"adduser"},
		Recommends: []string{"systemd-timesyncd"},
		Unit:       "anshim-kiosk.service",
		Data:       "/var/lib/anshim",
		DataMode:   "0750",
		Groups:     []string{"dialout", "input", "gpio", "video"},
		Enable:     true,
		PurgeData:  true,
	},
	{
		Name: "anshim-central",
		Description: "Anshim central server\n" +
			" The province's central of Anshim: ingest of kiosk check-ins over NATS\n" +
			" JetStream, the tamper-evident ledger, contact tracing and the web, and the\n" +
			" operator tool 'anshim'. Examples of the configuration and of a three-node\n" +
			" NATS cluster (nats-server 2.11 or later) are in /usr/share/doc/anshim-central.",
		Commands: []string{"central", "anshim"},
		Files: []File{
			{Src: "bin:central", Dst: "/usr/bin/central", Mode: 0o755},
			{Src: "bin:anshim", Dst: "/usr/bin/anshim", Mode: 0o755},
			{Src: "systemd/anshim-central.service", Dst: "/usr/lib/systemd/system/anshim-central.service", Mode: 0o644},
			{Src: "systemd/central.json.example", Dst: "/usr/share/doc/anshim-central/examples/central.json", Mode: 0o644},
			{Src: "systemd/nats/anshim-nats.conf", Dst: "/usr/share/doc/anshim-central/examples/nats/anshim-nats.conf", Mode: 0o644},
			{Src: "systemd/nats/nats-server.service", Dst: "/usr/share/doc/anshim-central/examples/nats/nats-server.service", Mode: 0o644},
			{Src: "systemd/nats/anshim-nats-devices.path", Dst: "/usr/share/doc/anshim-central/examples/nats/anshim-nats-devices.path", Mode: 0o644},
			{Src: "systemd/nats/anshim-nats-devices.service", Dst: "/usr/share/doc/anshim-central/examples/nats/anshim-nats-devices.service", Mode: 0o644},
			{Src: "README.md", Dst: "/usr/share/doc/anshim-central/README.md", Mode: 0o644},
			{Src: "docs/config.md", Dst: "/usr/share/doc/anshim-central/config.md", Mode: 0o644},
			{Src: "docs/sync.md", Dst: "/usr/share/doc/anshim-central/sync.md", Mode: 0o644},
		},
		Depends:  []string{"adduser"},
		Suggests: []string{"postgresql", "nats-server (>= 2.11)"},
		Unit:     "anshim-central.service",
		Data:     "/var/lib/anshim-central",
		DataMode: "0700",
	},
}

// PackageByName returns the package of a name ("anshim-kiosk", or just
// "kiosk").
func PackageByName(name string) (Package, error) {
	for _, p := range Packages {
		if p.Name == name || p.Name == "anshim-"+name {
			return p, nil
		}
	}
	return Package{}, fmt.Errorf("debpkg: unknown package %q (want kiosk or central)", name)
}

// Options are what Build needs besides the package and architecture.
type Options struct {
	// Root is the repository root (default ".").
	Root string
	// Out is the directory the .deb files are written to.
	Out string
	// Version is the package version, such as 0.1.0.
	Version string
	// Bin is the directory with the built commands, BIN/ARCH/NAME (see
	// GoBuild).
	Bin string
	// MTime stamps every file (default: the Unix epoch, for reproducible
	// packages).
	MTime time.Time
}

//go:embed scripts/*.tmpl
var scripts embed.FS

// Build writes the package p for arch into o.Out and returns its path. The
// commands must already be built into o.Bin (GoBuild).
func Build(p Package, arch Arch, o Options) (string, error) {
	if o.Root == "" {
		o.Root = "."
	}
	if o.Version == "" {
		return "", fmt.Errorf("debpkg: %s: no version", p.Name)
	}
	if o.MTime.IsZero() {
		o.MTime = time.Unix(0, 0).UTC()
	}
	tmp, err := os.MkdirTemp("", "debpkg-")
	if err != nil {
		return "", fmt.Errorf("debpkg: %w", err)
	}
	defer os.RemoveAll(tmp)
	var contents files.Contents
	for _, f := range p.Files {
		src := filepath.Join(o.Root, f.Src)
		if name, ok := strings.CutPrefix(f.Src, "bin:"); ok {
			src = filepath.Join(o.Bin, arch.Deb, name)
		}
		if _, err := os.Stat(src); err != nil {
			return "", fmt.Errorf("debpkg: %s: %w", p.Name, err)
		}
		typ := ""
		if f.Conf {
			typ = files.TypeConfigNoReplace
		}
		contents = append(contents, &files.Content{Source: src, Destination: f.Dst, Type: typ,
			FileInfo: &files.ContentFileInfo{Mode: f.Mode, Owner: "root", Group: "root", MTime: o.MTime}})
	}
	sc := nfpm.Scripts{}
	for _, s := range []struct {
		name string
		dst  *string
	}{{"postinst", &sc.PostInstall}, {"prerm", &sc.PreRemove}, {"postrm", &sc.PostRemove}} {
		text, err := Script(p, s.name)
		if err != nil {
			return "", err
		}
		path := filepath.Join(tmp, s.name)
		if err := os.WriteFile(path, text, 0o755); err != nil {
			return "", fmt.Errorf("debpkg: %w", err)
		}
		*s.dst = path
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:        p.Name,
		Arch:        arch.Deb,
		Platform:    "linux",
		Version:     o.Version,
		Section:     "misc",
		Priority:    "optional",
		Maintainer:  "Anshim <anshim@localhost>",
		Description: p.Description,
		Vendor:      "Anshim",
		License:     "Proprietary",
		MTime:       o.MTime,
		Overridables: nfpm.Overridables{
			Depends: p.Depends, Recommends: p.Recommends, Suggests: p.Suggests,
			Contents: contents, Scripts: sc,
			Deb: nfpm.Deb{Arch: arch.Deb},
		},
	})
	if err := info.Validate(); err != nil {
		return "", fmt.Errorf("debpkg: %s: %w", p.Name, err)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return "", fmt.Errorf("debpkg: %w", err)
	}
	pk := deb.Default
	out := filepath.Join(o.Out, pk.ConventionalFileName(info))
	f, err := os.Create(out)
	if err != nil {
		return "", fmt.Errorf("debpkg: %w", err)
	}
	if err := pk.Package(info, f); err != nil {
		f.Close()
		os.Remove(out)
		return "", fmt.Errorf("debpkg: package %s for %s: %w", p.Name, arch.Deb, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("debpkg: %w", err)
	}
	return out, nil
}

// Script returns the maintainer script name ("postinst", "prerm",
// "postrm") of p.
func Script(p Package, name string) ([]byte, error) {
	t, err := template.ParseFS(scripts, "scripts/"+name+".tmpl")
	if err != nil {
		return nil, fmt.Errorf("debpkg: script %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("debpkg: script %s of %s: %w", name, p.Name, err)
	}
	return b.Bytes(), nil
}

// GoBuild builds the commands of p for arch into BIN/ARCH/NAME, statically
// (CGO_ENABLED=0), stripped, with -trimpath, running the go command in
// root.
func GoBuild(ctx context.Context, root, bin string, arch Arch, p Package) error {
	for _, name := range p.Commands {
		out, err := filepath.Abs(filepath.Join(bin, arch.Deb, name))
		if err != nil {
			return fmt.Errorf("debpkg: %w", err)
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch.GOARCH, "GOARM="+arch.GOARM)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("debpkg: go build ./cmd/%s for %s: %w\n%s", name, arch.Deb, err, msg)
		}
	}
	return nil
}
