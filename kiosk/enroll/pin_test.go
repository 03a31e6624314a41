package enroll_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/enroll"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// testCA is a PEM certificate standing for the central's NATS CA.
var testCA = func() string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}()

// signedCA returns the NATS CA as the central hands it out, signed by the
// root key of keys.
func signedCA(t *testing.T, keys *province.Keys, pemText string) string {
	t.Helper()
	u, err := keys.SignKeyUpdate(province.KeyUpdate{Kind: province.KindNATSCA, Name: "nats", Issued: time.Now(), Payload: []byte(pemText)})
	if err != nil {
		t.Fatal(err)
	}
	return string(province.FormatKeyUpdate(u))
}

// newPlainCentral is newCentral over http://.
func newPlainCentral(t *testing.T) (*fakeCentral, *httptest.Server) {
	keys, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeCentral{t: t, keys: keys, token: "3f9c0e6a11b24c5d8e7f60718293a4b5"}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	return c, srv
}

// Ensure that enrollment over http:// needs the bundle's SHA-256, that a
// wrong pin fails before anything is written and without installing, and
// that the right pin (in either case) enrolls; and that over https:// a
// certificate the kiosk does not trust fails.
func TestEnroll_Authenticated(t *testing.T) {
	other, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	otherSum, _ := other.Bundle().SHA256()
	tests := []struct {
		name    string
		https   bool
		pin     func(c *fakeCentral) string
		client  bool // use the client that trusts the test certificate
		wantErr error
		errText string
	}{
		{"http without pin", false, func(*fakeCentral) string { return "" }, false, enroll.ErrUnauthenticated, ""},
		{"http with another bundle's pin", false, func(*fakeCentral) string { return otherSum }, false, enroll.ErrBundleMismatch, ""},
		{"http with a malformed pin", false, func(*fakeCentral) string { return "abc" }, false, nil, "want 64 hex digits"},
		{"http with the pin", false, func(c *fakeCentral) string { s, _ := c.keys.Bundle().SHA256(); return s }, false, nil, ""},
		{"http with the pin in upper case", false, func(c *fakeCentral) string { s, _ := c.keys.Bundle().SHA256(); return strings.ToUpper(s) }, false, nil, ""},
		{"https, trusted", true, func(*fakeCentral) string { return "" }, true, nil, ""},
		{"https, untrusted certificate", true, func(*fakeCentral) string { return "" }, false, nil, "certificate"},
		{"https with another bundle's pin", true, func(*fakeCentral) string { return otherSum }, true, enroll.ErrBundleMismatch, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *fakeCentral
			var srv *httptest.Server
			if tt.https {
				c, srv = newCentral(t)
			} else {
				c, srv = newPlainCentral(t)
			}
			dir := filepath.Join(t.TempDir(), "kiosk")
			o := options(srv, c.token, dir)
			o.Attempts = 1
			if !tt.client {
				o.Client = nil
			}
			o.BundleSHA256 = tt.pin(c)
			res, err := enroll.Enroll(context.Background(), o)
			if tt.wantErr == nil && tt.errText == "" {
				if err != nil {
					t.Fatal(err)
				}
				if sum, _ := c.keys.Bundle().SHA256(); res.BundleSHA256 != sum {
					t.Errorf("result's bundle SHA-256 %s, want %s", res.BundleSHA256, sum)
				}
				if _, err := kiosk.LoadDevice(dir); err != nil {
					t.Error(err)
				}
				return
			}
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("error %v, want %v %q", err, tt.wantErr, tt.errText)
			}
			if _, serr := os.Stat(dir); serr == nil {
				t.Errorf("%s was created", dir)
			}
		})
	}
}

// Ensure that the NATS CA of the answer is installed only when the root key
// of the answer's bundle signed it.
func TestEnroll_NATSCA(t *testing.T) {
	rogue, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ca   func(c *fakeCentral) string
		ok   bool
	}{
		{"signed by the bundle's root", func(c *fakeCentral) string { return signedCA(t, c.keys, testCA) }, true},
		{"signed by another root", func(*fakeCentral) string { return signedCA(t, rogue, testCA) }, false},
		{"unsigned PEM", func(*fakeCentral) string { return testCA }, false},
		{"signed, not a certificate", func(c *fakeCentral) string { return signedCA(t, c.keys, "not PEM") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newCentral(t)
			ca := tt.ca(c)
			c.mangle = func(r *wire.Enrollment) { r.NATSCA = ca }
			dir := filepath.Join(t.TempDir(), "kiosk")
			res, err := enroll.Enroll(context.Background(), options(srv, c.token, dir))
			got, rerr := os.ReadFile(filepath.Join(dir, kiosk.FileNATSCA))
			if !tt.ok {
				if err == nil || !strings.Contains(err.Error(), "nats_ca") {
					t.Errorf("error %v, want a nats_ca error", err)
				}
				if _, serr := os.Stat(filepath.Join(dir, kiosk.FileDevice)); serr == nil {
					t.Error("a device was installed")
				}
				return
			}
			if err != nil || rerr != nil {
				t.Fatal(err, rerr)
			}
			if string(got) != testCA || string(res.NATSCA) != testCA {
				t.Errorf("%s holds %q", kiosk.FileNATSCA, got)
			}
		})
	}
}
