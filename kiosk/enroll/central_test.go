package enroll_test

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
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
	"github.com/anshim/anshim/internal/logtest"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/enroll"
	"github.com/anshim/anshim/province"
)

// syncBuf is a log buffer safe for concurrent writes.
type syncBuf = logtest.Buffer

// waitLog waits up to 15 s for a line of log containing substr.
func waitLog(t *testing.T, log *syncBuf, substr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(log.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q in:\n%s", substr, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpsCert writes a self-signed certificate for 127.0.0.1 to dir and
// returns its files and a client that trusts it.
func httpsCert(t *testing.T, dir string) (certFile, keyFile string, client *http.Client) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "central test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "https.pem"), filepath.Join(dir, "https.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(der)
	pool.AddCert(leaf)
	return certFile, keyFile, &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// startCentral starts a real central in dir with cfg's NATS settings, its
// log in the returned buffer.
func startCentral(t *testing.T, dir string, mutate func(*central.Config)) (*central.Server, *syncBuf) {
	t.Helper()
	keys, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "province")); err != nil {
		t.Fatal(err)
	}
	cfg := central.Config{Data: dir, HTTP: "127.0.0.1:0", NATS: central.NATSConfig{Listen: "127.0.0.1:-1"}}
	if mutate != nil {
		mutate(&cfg)
	}
	log := new(syncBuf)
	srv, err := central.New(cfg, slog.New(slog.NewJSONHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, log
}

// token returns a token for a new approved venue of srv.
func token(t *testing.T, srv *central.Server, venue string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := srv.AddVenue(ctx, venue, "Cafe "+venue); err != nil {
		t.Fatal(err)
	}
	tok, err := srv.NewToken(ctx, venue)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// runKiosk runs `kiosk run` in-process on dir until the test ends and
// returns its log.
func runKiosk(t *testing.T, cfg kiosk.Config) *syncBuf {
	t.Helper()
	log := new(syncBuf)
	scans := scannertest.New("test")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg.StatusListen, cfg.Feedback = "off", "none"
	go func() {
		done <- kiosk.Run(ctx, cfg, kiosk.Env{Log: slog.New(slog.NewJSONHandler(log, nil)), Scanners: []scanner.Scanner{scans}})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("kiosk.Run: %v", err)
		}
	})
	select {
	case <-scans.Started:
	case err := <-done:
		t.Fatalf("kiosk.Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the kiosk did not start")
	}
	return log
}

// Ensure that, end to end with a real central, a kiosk enrolled over
// HTTPS gets the central's NATS CA (as the central holds it), connects to
// NATS over TLS and loads the signed down-sync keys without a refusal; and
// that a client with the kiosk's own NATS key that does not trust the CA
// cannot connect.
func TestCentral_EnrollHTTPSAndNATSOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, client := httpsCert(t, dir)
	srv, clog := startCentral(t, filepath.Join(dir, "central"), func(c *central.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if !strings.HasPrefix(srv.HTTPURL(), "https://") || !strings.HasPrefix(srv.NATSURL(), "tls://") {
		t.Fatalf("central at %s and %s, want https:// and tls://", srv.HTTPURL(), srv.NATSURL())
	}
	if strings.Contains(clog.String(), "NATS without TLS") {
		t.Errorf("a central with TLS warned about plaintext:\n%s", clog.String())
	}
	for _, f := range []string{"ca.key", "server.key"} {
		if fi, err := os.Stat(filepath.Join(dir, "central", central.NATSTLSDir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}

	kdir := filepath.Join(dir, "kiosk")
	res, err := enroll.Enroll(context.Background(), enroll.Options{Central: srv.HTTPURL(), Token: token(t, srv, "v-1"), Dir: kdir, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(kdir, kiosk.FileNATSCA))
	if err != nil || !bytes.Equal(ca, srv.NATSCA()) || !bytes.Equal(res.NATSCA, ca) {
		t.Fatalf("%s: %v; does not hold the central's CA", kiosk.FileNATSCA, err)
	}

	klog := runKiosk(t, kiosk.Config{Data: kdir})
	waitLog(t, klog, `"msg":"sync connected","component":"sync","server":"tls://`)
	waitLog(t, klog, `"msg":"sync: down-sync bucket loaded","component":"sync","bucket":"anshim_sealing","keys":1`)
	waitLog(t, klog, `"msg":"sync: down-sync bucket loaded","component":"sync","bucket":"anshim_passkeys","keys":1`)
	if s := klog.String(); strings.Contains(s, "refused") || strings.Contains(s, `"level":"WARN"`) {
		t.Errorf("kiosk log:\n%s", s)
	}

	// The kiosk's own key, without the CA: the certificate is not trusted.
	opt, err := nats.NkeyOptionFromSeed(filepath.Join(kdir, kiosk.FileNATSKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{srv.NATSURL(), strings.Replace(srv.NATSURL(), "tls://", "nats://", 1)} {
		nc, err := nats.Connect(url, opt, nats.Timeout(5*time.Second))
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected without trusting the CA", url)
		} else if !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Errorf("%s: %v, want an unknown authority", url, err)
		}
	}
}

// Ensure that plaintext NATS takes an explicit flag on both sides: a
// central with nats.insecure logs a WARN line at start; its kiosk (enrolled
// over http:// with the bundle pinned, so with no CA) refuses to sync
// without nats_insecure, and with it syncs and logs a WARN line.
func TestCentral_InsecureNATS(t *testing.T) {
	dir := t.TempDir()
	srv, clog := startCentral(t, filepath.Join(dir, "central"), func(c *central.Config) { c.NATS.Insecure = true })
	if !strings.Contains(clog.String(), `"level":"WARN","msg":"NATS without TLS (nats.insecure / --nats-insecure)`) {
		t.Errorf("no warning in the central's log:\n%s", clog.String())
	}
	kdir := filepath.Join(dir, "kiosk")
	res, err := enroll.Enroll(context.Background(), enroll.Options{Central: srv.HTTPURL(), Token: token(t, srv, "v-2"), Dir: kdir, BundleSHA256: srv.BundleSHA256()})
	if err != nil {
		t.Fatal(err)
	}
	if res.NATSCA != nil {
		t.Errorf("an insecure central sent a CA")
	}

	klog := runKiosk(t, kiosk.Config{Data: kdir})
	waitLog(t, klog, `"level":"ERROR","msg":"sync disabled: running offline","err":"NATS without TLS refused`)
	if strings.Contains(klog.String(), "sync connected") {
		t.Error("the kiosk synced in plaintext without nats_insecure")
	}
	t.Run("nats_insecure", func(t *testing.T) {
		// Another kiosk of the same central, run with nats_insecure.
		k2 := filepath.Join(dir, "kiosk2")
		if _, err := enroll.Enroll(context.Background(), enroll.Options{Central: srv.HTTPURL(), Token: token(t, srv, "v-3"), Dir: k2, BundleSHA256: srv.BundleSHA256()}); err != nil {
			t.Fatal(err)
		}
		klog := runKiosk(t, kiosk.Config{Data: k2, NATSInsecure: true})
		waitLog(t, klog, `"level":"WARN","msg":"sync: NATS without TLS (nats_insecure)`)
		waitLog(t, klog, `"msg":"sync connected","component":"sync","server":"nats://`)
	})
}
