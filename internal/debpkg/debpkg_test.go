package debpkg

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/kiosk"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

// units are every systemd unit in the repository, by path from the root.
var units = []string{
	"systemd/anshim-kiosk.service",
	"systemd/anshim-central.service",
	"systemd/nats/nats-server.service",
	"systemd/nats/anshim-nats-devices.path",
	"systemd/nats/anshim-nats-devices.service",
}

// maxExposure is the highest `systemd-analyze security` exposure (0 safe,
// 10 exposed) a service unit may have: each is at 1.x today.
const maxExposure = 2.0

// need returns the path of a command the test needs, failing when it is
// missing in CI (make deps installs it) and skipping, saying why, elsewhere.
func need(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: make deps installs the Debian package %s", name, pkg)
		}
		t.Skipf("SKIPPED: %s missing (install the Debian package %s, or run make deps)", name, pkg)
	}
	return p
}

// verifyRoot makes a root directory for `systemd-analyze verify --root`:
// the units in /etc/systemd/system, an executable stub at every absolute
// Exec*= path they name, and the host's own units (targets) under
// /usr/lib/systemd/system. verify then checks the paths the units really
// use, without the programs installed on this machine.
func verifyRoot(t *testing.T, unitFiles map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc/systemd/system")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	execRE := regexp.MustCompile(`(?m)^Exec[A-Za-z]*=[-@:+!]*(/\S+)`)
	for name, text := range unitFiles {
		if err := os.WriteFile(filepath.Join(etc, name), text, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, m := range execRE.FindAllSubmatch(text, -1) {
			stub := filepath.Join(dir, string(m[1]))
			os.MkdirAll(filepath.Dir(stub), 0o755)
			if err := os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A copy of the host's units (targets, and what they pull in), with
	// /lib → usr/lib as on a merged-/usr Debian, for their absolute links.
	sys := "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(sys, "multi-user.target")); err != nil {
		sys = "/lib/systemd/system"
	}
	os.MkdirAll(filepath.Join(dir, "usr/lib/systemd"), 0o755)
	if out, err := exec.Command("cp", "-a", sys, filepath.Join(dir, "usr/lib/systemd/system")).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v\n%s", sys, err, out)
	}
	if err := os.Symlink("usr/lib", filepath.Join(dir, "lib")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// verify runs `systemd-analyze verify` on the units and returns what it
// said: any output is a mistake (unknown keys only warn, with exit 0).
func verify(t *testing.T, analyze string, unitFiles map[string][]byte) (string, error) {
	t.Helper()
	dir := verifyRoot(t, unitFiles)
	args := []string{"verify", "--root=" + dir}
	for name := range unitFiles {
		args = append(args, name)
	}
	slices.Sort(args[2:])
	out, err := exec.Command(analyze, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func readUnits(t *testing.T) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join(root, u))
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(u)] = b
	}
	return m
}

// Ensure that every unit passes `systemd-analyze verify` silently, at the
// paths the packages install the programs to.
func TestUnitsVerify(t *testing.T) {
	analyze := need(t, "systemd-analyze", "systemd")
	out, err := verify(t, analyze, readUnits(t))
	if err != nil || out != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// Ensure that the verify check catches mistakes: an unknown key, a bad
// value and a program that is not there.
func TestUnitsVerify_Mistakes(t *testing.T) {
	analyze := need(t, "systemd-analyze", "systemd")
	good, err := os.ReadFile(filepath.Join(root, "systemd/anshim-kiosk.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown key", "LockPersonality=yes", "LockPersonalty=yes", "Unknown key"},
		{"bad value", "WatchdogSec=30s", "WatchdogSec=half a minute", "half a minute"},
		{"relative program", "ExecStart=/usr/bin/kiosk", "ExecStart=usr/bin/kiosk", "usr/bin/kiosk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Replace(good, []byte(tc.old), []byte(tc.new), 1)
			if bytes.Equal(bad, good) {
				t.Fatalf("%q not in the unit", tc.old)
			}
			out, _ := verify(t, analyze, map[string][]byte{"anshim-kiosk.service": bad})
			if !strings.Contains(out, tc.want) {
				t.Fatalf("verify said %q, want a complaint about %s", out, tc.want)
			}
		})
	}
}

// exposureRE reads the last line of `systemd-analyze security`.
var exposureRE = regexp.MustCompile(`Overall exposure level for (\S+): ([0-9.]+)`)

// Ensure that every service's `systemd-analyze security --offline=true`
// exposure stays at or below maxExposure, and report the scores.
func TestUnitsSecurity(t *testing.T) {
	analyze := need(t, "systemd-analyze", "systemd")
	for _, u := range units {
		if !strings.HasSuffix(u, ".service") || strings.HasSuffix(u, "anshim-nats-devices.service") {
			continue // a path unit and a oneshot that only runs systemctl reload
		}
		out, err := exec.Command(analyze, "security", "--offline=true", "--no-pager", filepath.Join(root, u)).CombinedOutput()
		m := exposureRE.FindSubmatch(out)
		if m == nil {
			t.Fatalf("systemd-analyze security %s: %v\n%s", u, err, out)
		}
		score, _ := strconv.ParseFloat(string(m[2]), 64)
		t.Logf("exposure %s: %.1f", filepath.Base(u), score)
		if score > maxExposure {
			t.Errorf("%s: exposure %.1f above %.1f:\n%s", u, score, maxExposure, out)
		}
	}
}

// Ensure that the example configurations load and validate: the kiosk's
// (shipped as /etc/anshim/kiosk.json) and the central's.
func TestExampleConfigs(t *testing.T) {
	kc, err := kiosk.LoadConfig(filepath.Join(root, "systemd/kiosk.json.example"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.Validate(); err != nil {
		t.Fatal(err)
	}
	cc, err := central.LoadConfig(filepath.Join(root, "systemd/central.json.example"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Validate(); err != nil {
		t.Fatal(err)
	}
	if cc.ReplicasOrDefault() != 3 || len(cc.NATS.URLs) != 3 {
		t.Fatalf("central example: replicas %d, %d NATS URLs; want R3 on three nodes", cc.ReplicasOrDefault(), len(cc.NATS.URLs))
	}
}

// writeTLS writes a CA and a server certificate (server and client use, for
// routes) signed by it as PEM files into dir.
func writeTLS(t *testing.T, dir string) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "n1"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), DNSNames: []string{"n1.nats.jeju.example", "localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(srvKey)
	for name, b := range map[string]*pem.Block{
		"ca.pem":         {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem":     {Type: "CERTIFICATE", Bytes: srvDER},
		"server-key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Ensure that the cluster configuration is what nats-server (the version in
// go.mod, through its own parser) reads as meant: JetStream with
// sync_interval always, the three routes over mutual TLS, the node's name
// from the environment, client TLS, and the users of a devices file the
// central wrote, included by a path relative to the configuration.
func TestNATSClusterConfig(t *testing.T) {
	dir := t.TempDir()
	conf, err := os.ReadFile(filepath.Join(root, "systemd/nats/anshim-nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	writeTLS(t, dir)
	// The test's certificates and JetStream directory instead of /etc/nats
	// and /var/lib/nats; nothing else changes.
	conf = bytes.ReplaceAll(conf, []byte("/etc/nats/tls/"), []byte(dir+"/"))
	conf = bytes.ReplaceAll(conf, []byte("/var/lib/nats/jetstream"), []byte(filepath.Join(dir, "js")))
	if err := os.WriteFile(filepath.Join(dir, "anshim-nats.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	// A devices file as the central writes it (central.WriteDevicesConfFor
	// is not exported: the format's header and blocks, by hand).
	var pubs []string
	for range 2 {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		pubs = append(pubs, pub)
	}
	devices := `authorization {
  users = [
    # the central server
    {nkey: "` + pubs[0] + `"}
    # device k-1
    {nkey: "` + pubs[1] + `", permissions: {
      publish: {allow: ["anshim.checkins.v-1.k-1"], deny: ["$JS.API.CONSUMER.DURABLE.CREATE.>"]}
      subscribe: {allow: ["_INBOX_k-1.>"]}
    }}
  ]
}
`
	if err := os.WriteFile(filepath.Join(dir, "anshim-devices.conf"), []byte(devices), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NATS_SERVER_NAME", "n2")
	opts, err := server.ProcessConfigFile(filepath.Join(dir, "anshim-nats.conf"))
	if err != nil {
		t.Fatalf("nats-server rejects the configuration: %v", err)
	}
	if opts.ServerName != "n2" {
		t.Errorf("server_name %q, want n2 from NATS_SERVER_NAME", opts.ServerName)
	}
	if !opts.JetStream || !opts.SyncAlways || opts.StoreDir != filepath.Join(dir, "js") {
		t.Errorf("JetStream %v, sync always %v, store %q", opts.JetStream, opts.SyncAlways, opts.StoreDir)
	}
	if opts.Cluster.Name != "anshim" || opts.Cluster.Port != 6222 || len(opts.Routes) != 3 || opts.Cluster.TLSConfig == nil {
		t.Errorf("cluster %q port %d, %d routes, TLS %v", opts.Cluster.Name, opts.Cluster.Port, len(opts.Routes), opts.Cluster.TLSConfig != nil)
	}
	if opts.TLSConfig == nil || opts.Port != 4222 {
		t.Errorf("client port %d TLS %v", opts.Port, opts.TLSConfig != nil)
	}
	if c := opts.Cluster.TLSConfig; c == nil || c.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("routes without mutual TLS")
	}
	if len(opts.Nkeys) != 2 || opts.Nkeys[1].Permissions == nil ||
		!slices.Equal(opts.Nkeys[1].Permissions.Publish.Allow, []string{"anshim.checkins.v-1.k-1"}) {
		t.Errorf("users from the devices file: %+v", opts.Nkeys)
	}
}

// fakeSystem is a PATH with stand-ins for every command the maintainer
// scripts run; each logs its arguments to LOG. getent knows the users and
// groups listed in the files passwd and group.
const fakeSystem = `#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE/log"
case "$(basename "$0")" in
getent) grep -qx "$2" "$FAKE/$1"; exit $? ;;
adduser) [ "$1" = --system ] && for a; do last=$a; done && echo "$last" >> "$FAKE/passwd"; exit 0 ;;
esac
exit 0
`

// runScript runs a maintainer script with sh and only the fake commands
// on PATH, so it cannot touch this machine's users or files.
func runScript(t *testing.T, script []byte, fake string, args ...string) []string {
	t.Helper()
	os.Remove(filepath.Join(fake, "log"))
	path := filepath.Join(fake, "script")
	if err := os.WriteFile(path, script, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", append([]string{path}, args...)...)
	cmd.Env = []string{"PATH=" + filepath.Join(fake, "bin"), "FAKE=" + fake}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", path, args, err, out)
	}
	log, _ := os.ReadFile(filepath.Join(fake, "log"))
	return strings.Split(strings.TrimSpace(string(log)), "\n")
}

func fakeRoot(t *testing.T, users, groups string) string {
	t.Helper()
	fake := t.TempDir()
	bin := filepath.Join(fake, "bin")
	os.Mkdir(bin, 0o755)
	for _, c := range []string{"getent", "adduser", "install", "systemctl", "rm", "basename", "grep"} {
		if err := os.WriteFile(filepath.Join(bin, c), []byte(fakeSystem), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The fake's own helpers are real.
	for _, c := range []string{"basename", "grep"} {
		p, err := exec.LookPath(c)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(bin, c))
		if err := os.Symlink(p, filepath.Join(bin, c)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(fake, "passwd"), []byte(users), 0o644)
	os.WriteFile(filepath.Join(fake, "group"), []byte(groups), 0o644)
	return fake
}

// Ensure that the maintainer scripts make the user once, join the device
// groups that exist, make the data directory with its owner and mode, and
// delete the kiosk's data only on purge (the central's never) — run with
// stand-ins for every command, never touching this machine's users.
func TestMaintainerScripts(t *testing.T) {
	kioskPkg, _ := PackageByName("kiosk")
	centralPkg, _ := PackageByName("central")
	script := func(p Package, name string) []byte {
		b, err := Script(p, name)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("/bin/sh", "-n", "-c", string(b)).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: syntax: %v\n%s", p.Name, name, err, out)
		}
		return b
	}
	has := func(log []string, line string) bool { return slices.Contains(log, line) }

	// A fresh Pi: no user anshim; dialout and video exist, gpio does not.
	fake := fakeRoot(t, "root\n", "dialout\nvideo\n")
	log := runScript(t, script(kioskPkg, "postinst"), fake, "configure")
	for _, want := range []string{
		"adduser --system --group --no-create-home --home /nonexistent --shell /usr/sbin/nologin --gecos Anshim anshim",
		"adduser --quiet anshim dialout",
		"adduser --quiet anshim video",
		"install -d -m 0750 -o anshim -g anshim /var/lib/anshim",
	} {
		if !has(log, want) {
			t.Errorf("postinst did not run %q:\n%s", want, strings.Join(log, "\n"))
		}
	}
	if has(log, "adduser --quiet anshim gpio") {
		t.Errorf("joined a group that does not exist:\n%s", strings.Join(log, "\n"))
	}
	// Again (an upgrade): the user exists and is not made twice.
	log = runScript(t, script(kioskPkg, "postinst"), fake, "configure", "0.1.0")
	for _, l := range log {
		if strings.HasPrefix(l, "adduser --system") {
			t.Errorf("made the user again on upgrade: %q", l)
		}
	}
	// Only "configure" does anything.
	if log := runScript(t, script(kioskPkg, "postinst"), fake, "abort-upgrade"); log[0] != "" {
		t.Errorf("postinst abort-upgrade ran %v", log)
	}
	// The central's directory is 0700.
	log = runScript(t, script(centralPkg, "postinst"), fake, "configure")
	if !has(log, "install -d -m 0700 -o anshim -g anshim /var/lib/anshim-central") {
		t.Errorf("central postinst:\n%s", strings.Join(log, "\n"))
	}
	// Purge deletes the kiosk's data, never the central's.
	if log := runScript(t, script(kioskPkg, "postrm"), fake, "remove"); slices.ContainsFunc(log, func(l string) bool { return strings.HasPrefix(l, "rm ") }) {
		t.Errorf("postrm remove deleted something: %v", log)
	}
	if log := runScript(t, script(kioskPkg, "postrm"), fake, "purge"); !has(log, "rm -rf /var/lib/anshim") {
		t.Errorf("kiosk postrm purge: %v", log)
	}
	if log := runScript(t, script(centralPkg, "postrm"), fake, "purge"); slices.ContainsFunc(log, func(l string) bool { return strings.HasPrefix(l, "rm ") }) {
		t.Errorf("central postrm purge deleted something: %v", log)
	}
}

// Ensure that the packages built for amd64 hold what they should, with the
// right modes, conffiles and scripts: inspected with dpkg-deb and unpacked
// with dpkg -x into a scratch root, where the kiosk binary runs.
func TestBuild(t *testing.T) {
	need(t, "dpkg-deb", "dpkg")
	pkgs := Packages
	if testing.Short() {
		pkgs = pkgs[:1] // the central's binaries take a minute to build
		t.Log("-short: anshim-kiosk only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bin, out := t.TempDir(), t.TempDir()
	amd64, _ := ArchByName("amd64")
	for _, p := range pkgs {
		t.Run(p.Name, func(t *testing.T) {
			if err := GoBuild(ctx, root, bin, amd64, p); err != nil {
				t.Fatal(err)
			}
			deb, err := Build(p, amd64, Options{Root: root, Out: out, Version: "0.1.0", Bin: bin})
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(deb) != p.Name+"_0.1.0_amd64.deb" {
				t.Errorf("file name %s", filepath.Base(deb))
			}
			checkDeb(t, p, deb)
		})
	}
}

func checkDeb(t *testing.T, p Package, deb string) {
	t.Helper()
	run := func(name string, args ...string) string {
		t.Helper()
		b, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, b)
		}
		return string(b)
	}
	for field, want := range map[string]string{"Package": p.Name, "Architecture": "amd64", "Version": "0.1.0", "Depends": "adduser"} {
		if got := strings.TrimSpace(run("dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	info := run("dpkg-deb", "-I", deb)
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if !regexp.MustCompile(`\*\s+` + s + `\s`).MatchString(info) {
			t.Errorf("no executable %s:\n%s", s, info)
		}
	}
	// The listing: every file with its mode, owned by root.
	listing := run("dpkg-deb", "-c", deb)
	for _, f := range p.Files {
		re := regexp.MustCompile(`(?m)^(\S+) root/root .* \.` + regexp.QuoteMeta(f.Dst) + `$`)
		m := re.FindStringSubmatch(listing)
		if m == nil {
			t.Errorf("%s not in the package (or not root's):\n%s", f.Dst, listing)
			continue
		}
		if want := "-" + f.Mode.Perm().String()[1:]; m[1] != want {
			t.Errorf("%s: mode %s, want %s", f.Dst, m[1], want)
		}
	}
	// Conffiles: exactly the Conf files.
	ctrl := t.TempDir()
	run("dpkg-deb", "-e", deb, ctrl)
	var wantConf []string
	for _, f := range p.Files {
		if f.Conf {
			wantConf = append(wantConf, f.Dst)
		}
	}
	gotConf, _ := os.ReadFile(filepath.Join(ctrl, "conffiles"))
	if got := strings.Fields(string(gotConf)); !slices.Equal(got, wantConf) {
		t.Errorf("conffiles %v, want %v", got, wantConf)
	}
	postinst, _ := os.ReadFile(filepath.Join(ctrl, "postinst"))
	if want, _ := Script(p, "postinst"); !bytes.Equal(postinst, want) {
		t.Errorf("postinst in the package differs from Script's")
	}
	// Unpacked into a scratch root: the files are the repository's, the
	// binaries run.
	scratch := t.TempDir()
	run("dpkg", "-x", deb, scratch)
	for _, f := range p.Files {
		fi, err := os.Stat(filepath.Join(scratch, f.Dst))
		if err != nil {
			t.Error(err)
			continue
		}
		if fi.Mode().Perm() != f.Mode {
			t.Errorf("%s unpacked with mode %v, want %v", f.Dst, fi.Mode().Perm(), f.Mode)
		}
		if src, ok := strings.CutPrefix(f.Src, "bin:"); ok {
			out, err := exec.Command(filepath.Join(scratch, f.Dst), "--help").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Usage") {
				t.Errorf("%s --help: %v\n%s", src, err, out)
			}
			continue
		}
		want, _ := os.ReadFile(filepath.Join(root, f.Src))
		got, _ := os.ReadFile(filepath.Join(scratch, f.Dst))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", f.Dst, f.Src)
		}
	}
}

// Ensure that names of architectures and packages are checked.
func TestByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"amd64", true}, {"arm64", true}, {"armhf", true}, {"armv7", false}, {"", false}} {
		if _, err := ArchByName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ArchByName(%q): %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"kiosk", true}, {"anshim-central", true}, {"anshim", false}} {
		if _, err := PackageByName(tc.name); (err == nil) != tc.ok {
			t.Errorf("PackageByName(%q): %v", tc.name, err)
		}
	}
	if a, _ := ArchByName("armhf"); a.GOARCH != "arm" || a.GOARM != "7" {
		t.Errorf("armhf builds as %+v", a)
	}
}
