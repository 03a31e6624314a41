package faulttest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/province"
)

// cluster is one test's world: province keys, an optional external NATS
// server, a central and kiosks, all under one temporary directory.
type cluster struct {
	t       *testing.T
	dir     string
	keys    *province.Keys
	keysDir string
	nats    *natsNode // nil: the central embeds NATS
	central *centralNode
}

// clusterOptions choose how NATS runs.
type clusterOptions struct {
	// External runs a nats-server process (JetStream on disk, sync_interval
	// always) that the central joins with --nats; otherwise the central
	// embeds NATS on a fixed port.
	External bool
	// Advertise, if not "", is the NATS URL given to kiosks at enrollment
	// (a proxy in front of NATS).
	Advertise string
	// Debug runs the central with --log-level debug (a line per batch).
	Debug bool
}

// newCluster makes province keys and starts NATS and the central.
func newCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real processes for a minute or more: not with -short")
	}
	c := &cluster{t: t, dir: t.TempDir()}
	keys, err := province.Generate(rand.Reader, "faulttest")
	if err != nil {
		t.Fatal(err)
	}
	c.keys, c.keysDir = keys, filepath.Join(c.dir, "province")
	if err := keys.Save(c.keysDir); err != nil {
		t.Fatal(err)
	}
	cn := &centralNode{t: t, data: filepath.Join(c.dir, "central"), keys: c.keysDir, log: newLineLog(t, "central")}
	c.central = cn
	if o.Debug {
		cn.extra = append(cn.extra, "--log-level", "debug")
	}
	if o.External {
		n := newNATSNode(t, c.dir, "central/"+central.DevicesConfFile)
		c.nats = n
		cn.extra = append(cn.extra, "--nats", n.url)
		if o.Advertise != "" {
			cn.extra = append(cn.extra, "--nats-advertise", o.Advertise)
		}
		// The central writes its users (its own nkey first) at start and
		// then waits for NATS, which includes that file.
		mark := cn.start(false)
		conf := filepath.Join(cn.data, central.DevicesConfFile)
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(conf); err == nil {
				break
			}
			if time.Now().After(deadline) || !cn.p.running() {
				t.Fatalf("the central wrote no %s", conf)
			}
			time.Sleep(20 * time.Millisecond)
		}
		n.start()
		cn.waitStarted(mark)
	} else {
		port := freePort(t)
		cn.extra = append(cn.extra, "--nats-listen", "127.0.0.1:"+strconv.Itoa(port))
		if o.Advertise != "" {
			cn.extra = append(cn.extra, "--nats-advertise", o.Advertise)
		}
		cn.waitStarted(cn.start(false))
	}
	return c
}

// natsNode is an external nats-server process.
type natsNode struct {
	t    *testing.T
	conf string
	url  string
	log  *lineLog
	p    *proc
	runs int
}

// newNATSNode writes dir/nats.conf: a fixed port, JetStream in dir/js with
// an fsync per write, and the central's users included from include
// (relative to dir, as nats-server resolves includes).
func newNATSNode(t *testing.T, dir, include string) *natsNode {
	port := freePort(t)
	conf := filepath.Join(dir, "nats.conf")
	text := fmt.Sprintf(`server_name: "faulttest"
listen: "127.0.0.1:%d"
max_payload: 1MB
jetstream {
  store_dir: %q
  sync_interval: always
}
include %q
`, port, filepath.Join(dir, "js"), include)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("nats-server (built from %s) on port %d", bins.natsFrom, port)
	return &natsNode{t: t, conf: conf, url: fmt.Sprintf("nats://127.0.0.1:%d", port), log: newLineLog(t, "nats")}
}

// start starts nats-server and waits until it is ready.
func (n *natsNode) start() {
	n.t.Helper()
	n.runs++
	mark := n.log.len()
	n.p = startProc(n.t, n.log, false, nil, bins.nats, "-c", n.conf)
	if _, ok := n.log.wait(mark, 60*time.Second, n.p.done, contains("Server is ready")); !ok {
		n.t.Fatalf("nats-server (run %d) not ready", n.runs)
	}
}

// reload makes the running server read its configuration again, as an
// operator does after an enrollment: nats-server --signal reload=PID.
func (n *natsNode) reload() {
	n.t.Helper()
	mark := n.log.len()
	if _, err := runCmd(n.t, bins.nats, "--signal", "reload="+strconv.Itoa(n.p.pid())); err != nil {
		n.t.Fatal(err)
	}
	if _, ok := n.log.wait(mark, 30*time.Second, n.p.done, contains("Reloaded server configuration")); !ok {
		n.t.Fatal("nats-server did not reload its configuration")
	}
}

// crash stops the server with sig and waits until it is gone.
func (n *natsNode) crash(sig syscall.Signal) {
	n.p.cmd.Process.Signal(sig)
	select {
	case <-n.p.done:
	case <-time.After(30 * time.Second):
		n.t.Errorf("nats-server did not exit on %v", sig)
		n.p.kill()
	}
}

// centralNode is the central server process (`central serve`) and its
// restarts on the same data directory.
type centralNode struct {
	t     *testing.T
	data  string
	keys  string
	extra []string
	log   *lineLog
	p     *proc
	http  string // base URL of the HTTP API of the current run
	token string // admin token
	runs  int
}

// start starts `central serve` and returns the log mark of the run.
func (c *centralNode) start(wait bool) int {
	c.t.Helper()
	c.runs++
	mark := c.log.len()
	args := append([]string{"serve", "--data", c.data, "--keys", c.keys, "--http", "127.0.0.1:0"}, c.extra...)
	c.p = startProc(c.t, c.log, false, nil, bins.central, args...)
	if wait {
		c.waitStarted(mark)
	}
	return mark
}

// waitStarted waits for the "central started" line of the run at mark.
func (c *centralNode) waitStarted(mark int) {
	c.t.Helper()
	line, ok := c.log.wait(mark, 90*time.Second, c.p.done, contains(`"msg":"central started"`))
	if !ok {
		c.t.Fatalf("central (run %d) did not start", c.runs)
	}
	var l struct{ HTTP string }
	if err := json.Unmarshal([]byte(line), &l); err != nil || l.HTTP == "" {
		c.t.Fatalf("central started line %q: %v", line, err)
	}
	c.http = l.HTTP
	tok, err := os.ReadFile(filepath.Join(c.data, central.AdminTokenFile))
	if err != nil {
		c.t.Fatal(err)
	}
	c.token = strings.TrimSpace(string(tok))
}

// api calls the admin API and decodes the answer into out.
func (c *centralNode) api(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.http+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// devices returns the central's devices and their sync state, by id.
func (c *centralNode) devices() (map[string]central.DeviceStats, error) {
	var ds []central.DeviceStats
	if err := c.api("GET", "/v1/devices", nil, &ds); err != nil {
		return nil, err
	}
	m := make(map[string]central.DeviceStats, len(ds))
	for _, d := range ds {
		m[d.ID] = d
	}
	return m, nil
}

// stop stops the central with SIGTERM.
func (c *centralNode) stop() { c.p.stop(c.t, 30*time.Second) }

// addVenue registers a venue and returns a one-time enrollment token.
func (c *cluster) addVenue(id string) {
	c.t.Helper()
	// A complete registration, approved (central/registry): the business
	// number need only be valid and unique, so it is made from the id.
	reg := registry.Registration{ID: id, Name: "Venue " + id, BusinessNumber: testBusinessNumber(id), Address: "제주시 중앙로 1",
		Category: registry.Other, Location: registry.JejuCity, OwnerPhone: "064-710-1234", Status: registry.StatusApproved}
	if err := c.central.api("POST", "/v1/venues", reg, nil); err != nil {
		c.t.Fatal(err)
	}
}

// testBusinessNumber returns a valid business number made from a venue id.
func testBusinessNumber(id string) string {
	var n uint32 = 2166136261 // FNV-1a of the id: nine digits
	for i := 0; i < len(id); i++ {
		n = (n ^ uint32(id[i])) * 16777619
	}
	for c := range 10 {
		if bn, err := registry.ParseBusinessNumber(fmt.Sprintf("%09d%d", n%1_000_000_000, c)); err == nil {
			return bn
		}
	}
	panic("no check digit") // one of ten always fits
}

// enroll enrolls a new kiosk of venue with `kiosk enroll`.
func (c *cluster) enroll(name, venue string) *kioskNode {
	c.t.Helper()
	var tok struct{ Token string }
	if err := c.central.api("POST", "/v1/venues/"+venue+"/tokens", nil, &tok); err != nil {
		c.t.Fatal(err)
	}
	data := filepath.Join(c.dir, name)
	sum, err := c.keys.Bundle().SHA256() // the central's HTTP API is plain http://: pin the bundle
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := runCmd(c.t, bins.kiosk, "enroll", "--token", tok.Token, "--central", c.central.http, "--data", data, "--bundle-sha256", sum); err != nil {
		c.t.Fatal(err)
	}
	dev, err := kiosk.LoadDevice(data)
	if err != nil {
		c.t.Fatal(err)
	}
	return &kioskNode{t: c.t, c: c, name: name, data: data, device: dev.ID, venue: dev.Venue, log: newLineLog(c.t, name)}
}

// enrollKiosks adds a venue per kiosk, enrolls n kiosks and, with an
// external NATS server, reloads it so that they can connect.
func (c *cluster) enrollKiosks(n int) []*kioskNode {
	c.t.Helper()
	var ks []*kioskNode
	for i := range n {
		venue := fmt.Sprintf("venue-%d", i+1)
		c.addVenue(venue)
		ks = append(ks, c.enroll(fmt.Sprintf("kiosk%d", i+1), venue))
	}
	if c.nats != nil {
		c.nats.reload()
	}
	return ks
}
