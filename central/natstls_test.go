package central

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

// Ensure that the central's NATS CA is made once and kept, that its server
// certificate names the listen host's loopback names and the advertised
// hosts and is made again (by the same CA) when a host is added, and that
// the private keys are 0600.
func TestNATSTLS_CAKeptCertCoversHosts(t *testing.T) {
	cfg := &Config{Data: t.TempDir(), NATS: NATSConfig{Listen: "127.0.0.1:-1"}}
	first, err := loadNATSTLS(cfg, natsHosts(cfg))
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(nt *natsTLS) *x509.Certificate {
		c, err := x509.ParseCertificate(nt.cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, h := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := leaf(first).VerifyHostname(h); err != nil {
			t.Errorf("certificate for %s: %v", h, err)
		}
	}
	if _, err := leaf(first).Verify(x509.VerifyOptions{Roots: first.roots}); err != nil {
		t.Errorf("server certificate does not chain to the CA: %v", err)
	}
	for _, f := range []string{natsCAKeyFile, natsKeyFile} {
		if fi, err := os.Stat(filepath.Join(cfg.Data, NATSTLSDir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, err, fi.Mode())
		}
	}

	tests := []struct {
		name      string
		advertise []string
		newCert   bool
	}{
		{"same hosts: kept", nil, false},
		{"a new advertised host: new certificate", []string{"tls://central.jeju.example:4223"}, true},
		{"same again: kept", []string{"tls://central.jeju.example:4223"}, false},
	}
	prev := first
	for _, tt := range tests {
		cfg.NATS.Advertise = tt.advertise
		nt, err := loadNATSTLS(cfg, natsHosts(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(nt.caPEM, first.caPEM) {
			t.Errorf("%s: the CA changed", tt.name)
		}
		if got := !bytes.Equal(nt.cert.Certificate[0], prev.cert.Certificate[0]); got != tt.newCert {
			t.Errorf("%s: new certificate %v, want %v", tt.name, got, tt.newCert)
		}
		for _, a := range tt.advertise {
			if err := leaf(nt).VerifyHostname("central.jeju.example"); err != nil {
				t.Errorf("%s: %s: %v", tt.name, a, err)
			}
		}
		prev = nt
	}

	cfg.NATS.Insecure = true
	if nt, err := loadNATSTLS(cfg, natsHosts(cfg)); nt != nil || err != nil {
		t.Errorf("insecure: %v, %v; want no TLS", nt, err)
	}
}
