package debpkg

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// freePorts returns n free TCP ports on the loopback.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// Ensure that three nodes started from systemd/nats/anshim-nats.conf form
// a cluster: the routes' mutual TLS works, JetStream has a meta leader,
// the central's user (from the included devices file) creates an R3
// stream whose acknowledged messages are on all three nodes, and a
// device's user may publish only to its own subject. Only the addresses
// change: loopback ports instead of the production host names.
func TestNATSClusterForms(t *testing.T) {
	if testing.Short() {
		t.Skip("three in-process NATS nodes (about 5 s)")
	}
	dir := t.TempDir()
	writeTLS(t, dir)
	conf, err := os.ReadFile(filepath.Join(root, "systemd/nats/anshim-nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	central, _ := nkeys.CreateUser()
	centralPub, _ := central.PublicKey()
	device, _ := nkeys.CreateUser()
	devicePub, _ := device.PublicKey()
	devices := `authorization {
  users = [
    {nkey: "` + centralPub + `"}
    {nkey: "` + devicePub + `", permissions: {
      publish: {allow: ["anshim.checkins.v-1.k-1"]}
      subscribe: {allow: ["_INBOX.>"]}
    }}
  ]
}
`
	routes := freePorts(t, 3)
	var servers []*server.Server
	var urls []string
	for i := range 3 {
		node := filepath.Join(dir, fmt.Sprintf("n%d", i+1))
		os.MkdirAll(node, 0o755)
		c := bytes.ReplaceAll(conf, []byte("/etc/nats/tls/"), []byte(dir+"/"))
		c = bytes.ReplaceAll(c, []byte("/var/lib/nats/jetstream"), []byte(filepath.Join(node, "js")))
		for j := range 3 {
			c = bytes.ReplaceAll(c, fmt.Appendf(nil, "n%d.nats.jeju.example:6222", j+1), fmt.Appendf(nil, "127.0.0.1:%d", routes[j]))
		}
		c = bytes.Replace(c, []byte("port: 6222"), []byte("port: "+strconv.Itoa(routes[i])), 1)
		c = bytes.Replace(c, []byte("port: 4222"), []byte("port: -1"), 1)
		c = bytes.Replace(c, []byte(`http: "127.0.0.1:8222"`), nil, 1)
		os.WriteFile(filepath.Join(node, "anshim-nats.conf"), c, 0o644)
		os.WriteFile(filepath.Join(node, "anshim-devices.conf"), []byte(devices), 0o644)
		t.Setenv("NATS_SERVER_NAME", fmt.Sprintf("n%d", i+1))
		opts, err := server.ProcessConfigFile(filepath.Join(node, "anshim-nats.conf"))
		if err != nil {
			t.Fatal(err)
		}
		opts.NoSigs = true
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		t.Cleanup(s.Shutdown)
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("node %d not ready", i+1)
		}
		servers = append(servers, s)
		urls = append(urls, s.ClientURL())
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ok := true
		for _, s := range servers {
			if s.NumRoutes() < 2 {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cluster: routes %d %d %d", servers[0].NumRoutes(), servers[1].NumRoutes(), servers[2].NumRoutes())
		}
	}
	// The JetStream meta group elects its leader once the routes are up.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		leaders := 0
		for _, s := range servers {
			if s.JetStreamIsLeader() {
				leaders++
			}
		}
		if leaders == 1 && servers[0].JetStreamIsClustered() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no JetStream meta leader (%d leaders)", leaders)
		}
	}
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool.AppendCertsFromPEM(ca)
	connect := func(kp nkeys.KeyPair) *nats.Conn {
		pub, _ := kp.PublicKey()
		nc, err := nats.Connect(urls[0]+","+urls[1]+","+urls[2],
			nats.Secure(&tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}),
			nats.Nkey(pub, kp.Sign))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	nc := connect(central)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Until every peer is known to the meta leader, placement answers "no
	// suitable peers" (the central waits the same way).
	var st jetstream.Stream
	for {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		st, err = js.CreateStream(actx, jetstream.StreamConfig{Name: "CHECKINS", Subjects: []string{"anshim.checkins.>"}, Replicas: 3, Storage: jetstream.FileStorage})
		acancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("R3 stream: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	dc := connect(device)
	djs, _ := jetstream.New(dc)
	if _, err := djs.Publish(ctx, "anshim.checkins.v-1.k-1", []byte("batch")); err != nil {
		t.Fatalf("device publish to its own subject: %v", err)
	}
	if err := dc.Publish("anshim.checkins.v-2.k-9", []byte("x")); err != nil {
		t.Fatal(err)
	}
	dc.Flush()
	if err := dc.LastError(); err == nil {
		t.Error("device published to another device's subject without a permissions violation")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		current := 0
		for _, r := range info.Cluster.Replicas {
			if r.Current {
				current++
			}
		}
		if info.State.Msgs == 1 && info.Config.Replicas == 3 && info.Cluster.Leader != "" && current == 2 {
			t.Logf("stream CHECKINS: R%d, leader %s, %d current followers", info.Config.Replicas, info.Cluster.Leader, current)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream state %+v cluster %+v", info.State, info.Cluster)
		}
	}
}
