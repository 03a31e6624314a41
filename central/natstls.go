package central

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/anshim/anshim/internal/atomicfile"
)

// Files of the NATS certificates the central makes for its embedded server
// (in DATA/nats-tls, mode 0700).
const (
	// NATSTLSDir is the directory of the generated NATS certificates.
	NATSTLSDir = "nats-tls"
	// NATSCAFile is the generated CA's certificate, which kiosks get at
	// enrollment (signed by the province's root key) and trust.
	NATSCAFile = "ca.pem"
	// natsCAKeyFile is the CA's private key, mode 0600: it signs the
	// server certificate again when the listen host changes.
	natsCAKeyFile = "ca.key"
	// natsCertFile and natsKeyFile are the server's certificate and key.
	natsCertFile = "server.pem"
	natsKeyFile  = "server.key"
)

// natsTLS is the TLS set-up of the central's NATS links: the server
// certificate of the embedded server (nil with an external cluster), and
// the CA that the central and its kiosks verify the NATS servers with (nil:
// the system's roots).
type natsTLS struct {
	cert  *tls.Certificate
	roots *x509.CertPool
	caPEM []byte // handed to kiosks; nil: they use the system's roots
}

// serverConfig returns the embedded server's TLS configuration.
func (t *natsTLS) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{*t.cert}, MinVersion: tls.VersionTLS12}
}

// clientConfig returns the TLS configuration of a client of the NATS
// servers.
func (t *natsTLS) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: t.roots, MinVersion: tls.VersionTLS12}
}

// loadNATSTLS returns the TLS set-up of cfg, or nil when NATS runs without
// TLS (nats.insecure). For the embedded server it loads the configured
// certificate or makes (and keeps in DATA/nats-tls) a CA and a server
// certificate for hosts.
func loadNATSTLS(cfg *Config, hosts []string) (*natsTLS, error) {
	n := &cfg.NATS
	if n.Insecure {
		return nil, nil
	}
	t := new(natsTLS)
	if n.TLSCA != "" {
		pemData, err := os.ReadFile(n.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("nats tls_ca: %w", err)
		}
		if t.roots, err = certPool(pemData); err != nil {
			return nil, fmt.Errorf("nats tls_ca %s: %w", n.TLSCA, err)
		}
		t.caPEM = pemData
	}
	switch {
	case !cfg.EmbeddedNATS():
		return t, nil
	case n.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(n.TLSCert, n.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("nats tls_cert: %w", err)
		}
		t.cert = &cert
		return t, nil
	}
	dir := filepath.Join(cfg.DataOrDefault(), NATSTLSDir)
	caPEM, caKey, err := loadOrMakeCA(dir)
	if err != nil {
		return nil, fmt.Errorf("NATS CA in %s: %w", dir, err)
	}
	cert, err := loadOrMakeServerCert(dir, caPEM, caKey, hosts)
	if err != nil {
		return nil, fmt.Errorf("NATS server certificate in %s: %w", dir, err)
	}
	t.cert = cert
	if t.roots, err = certPool(caPEM); err != nil {
		return nil, err
	}
	t.caPEM = caPEM
	return t, nil
}

// certPool returns a pool of the PEM certificates in data.
func certPool(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("no PEM certificate")
	}
	return pool, nil
}

// loadOrMakeCA returns the CA of dir, making it first if missing.
// Certificates use the real clock: TLS checks them against it.
func loadOrMakeCA(dir string) ([]byte, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, NATSCAFile), filepath.Join(dir, natsCAKeyFile)
	if certPEM, err := os.ReadFile(certPath); err == nil {
		key, err := readKey(keyPath)
		if err != nil {
			return nil, nil, err
		}
		return certPEM, key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Anshim central NATS CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeKey(keyPath, key); err != nil {
		return nil, nil, err
	}
	if err := atomicfile.Write(certPath, certPEM, 0o644); err != nil {
		return nil, nil, err
	}
	return certPEM, key, nil
}

// loadOrMakeServerCert returns the server certificate of dir, signing a
// new one with the CA when it is missing, does not name every host, or
// expires within 30 days.
func loadOrMakeServerCert(dir string, caPEM []byte, caKey *ecdsa.PrivateKey, hosts []string) (*tls.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, natsCertFile), filepath.Join(dir, natsKeyFile)
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err == nil && time.Until(leaf.NotAfter) > 30*24*time.Hour && coversHosts(leaf, hosts) && signedBy(leaf, caPEM) {
			return &cert, nil
		}
	}
	block, _ := pem.Decode(caPEM)
	if block == nil {
		return nil, errors.New("CA certificate: no PEM block")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "Anshim central NATS"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	return &cert, nil
}

// coversHosts reports whether leaf is valid for every host.
func coversHosts(leaf *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// signedBy reports whether leaf chains to the CA of caPEM.
func signedBy(leaf *x509.Certificate, caPEM []byte) bool {
	pool, err := certPool(caPEM)
	if err != nil {
		return false
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err == nil
}

// natsHosts returns the host names and addresses the embedded server's
// certificate names: its listen host (every loopback name for a loopback
// or unspecified one, and the machine's name for the latter) and the hosts
// of the advertised URLs.
func natsHosts(cfg *Config) []string {
	host, _, _ := splitListen(cfg.NATSListenOrDefault())
	var hosts []string
	switch ip := net.ParseIP(host); {
	case host == "" || ip != nil && ip.IsUnspecified():
		hosts = append(hosts, "127.0.0.1", "::1", "localhost")
		if name, err := os.Hostname(); err == nil && name != "" {
			hosts = append(hosts, name)
		}
	case host == "localhost" || ip != nil && ip.IsLoopback():
		hosts = append(hosts, host, "127.0.0.1", "::1", "localhost")
	default:
		hosts = append(hosts, host)
	}
	for _, a := range cfg.NATS.Advertise {
		if u, err := url.Parse(a); err == nil && u.Hostname() != "" {
			hosts = append(hosts, u.Hostname())
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// serial returns a random certificate serial number.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// readKey reads an EC private key in PEM.
func readKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// writeKey writes an EC private key in PEM, mode 0600.
func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	return atomicfile.Write(path, b.Bytes(), 0o600)
}
