package central

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/anshim/anshim/internal/clientaddr"
	"github.com/anshim/anshim/notify"
)

// Config configures a central server. A JSON file gives it (see
// [LoadConfig]); the command line overrides the file. Zero values mean the
// defaults documented per field and applied by the XOrDefault methods, so a
// Config is never changed by applying them.
type Config struct {
	// Data is the central's data directory, mode 0700: the store, the
	// embedded NATS server's JetStream files, the central's NATS key and
	// the admin token (default /var/lib/anshim-central).
	Data string `json:"data,omitempty"`
	// Keys is the province key directory made by `anshim keygen` (default
	// DATA/province).
	Keys string `json:"keys,omitempty"`
	// Store is the store: "bolt:PATH" (default bolt:DATA/central.db, one
	// file, for pilots) or a PostgreSQL URL "postgres://USER@HOST:PORT/DB"
	// (production: day partitions, schema migrated at start).
	Store string `json:"store,omitempty"`
	// HTTP is the listen address of the HTTP API (default 127.0.0.1:8440).
	// Serve it over HTTPS (TLSCert) or put a TLS-terminating proxy in
	// front of it before kiosks use it over a network: `kiosk enroll` takes
	// an http:// central only with the bundle's SHA-256 pinned.
	HTTP string `json:"http,omitempty"`
	// TLSCert and TLSKey are the PEM certificate (chain) and key of the
	// HTTP API: given, it serves HTTPS.
	TLSCert string `json:"tls_cert,omitempty"`
	TLSKey  string `json:"tls_key,omitempty"`
	// TrustedProxies are the reverse proxies in front of the HTTP API (a
	// TLS terminator, the load balancer of several centrals), as
	// addresses or networks ("10.0.0.0/8"): from them the client address
	// is taken from X-Forwarded-For, so that rate limits count visitors,
	// not the proxy. Empty: the header is ignored.
	TrustedProxies []string `json:"trusted_proxies,omitempty"`
	// TokenTTL is how long an enrollment token stays valid (default 7d).
	TokenTTL Duration `json:"token_ttl,omitempty"`
	// NATS configures the connection to NATS JetStream.
	NATS NATSConfig `json:"nats"`
	// QuarantineMaxBytes and QuarantineMaxEntries are each device's
	// quarantine quota: past the bytes an entry keeps only its hash, at the
	// entries one quota-exceeded entry is written and later ones are only
	// logged and counted (defaults 1 MiB and 1,000; docs/sync.md,
	// Quarantine).
	QuarantineMaxBytes   int64 `json:"quarantine_max_bytes,omitempty"`
	QuarantineMaxEntries int   `json:"quarantine_max_entries,omitempty"`
	// Notify configures the messages to contacts (followup_api.go): a
	// file sink by default, or an SMS gateway's webhook.
	Notify NotifyConfig `json:"notify"`

	// Now is the clock (default time.Now). Tests set it.
	Now func() time.Time `json:"-"`
}

// NATSConfig configures NATS: either an external cluster (URLs) or a
// server embedded in the central process (the default when URLs is empty).
type NATSConfig struct {
	// URLs are the servers of an external NATS cluster. The central
	// connects as the user of NKeyFile and writes the device users to
	// DATA/nats-devices.conf, which the cluster's configuration includes
	// (see [DevicesConfFile]). Empty means an embedded server.
	URLs []string `json:"urls,omitempty"`
	// Embedded asks for the embedded server explicitly; it is an error
	// together with URLs.
	Embedded bool `json:"embedded,omitempty"`
	// NKeyFile is the seed file of the central's own NATS user (an nkey,
	// "SU…"), mode 0600; created if missing (default DATA/central.nk).
	NKeyFile string `json:"nkey_file,omitempty"`
	// Listen is the embedded server's client address (default
	// 127.0.0.1:4223; port -1 picks a free port, for tests).
	Listen string `json:"listen,omitempty"`
	// StoreDir is the embedded server's JetStream directory (default
	// DATA/nats).
	StoreDir string `json:"store_dir,omitempty"`
	// SyncInterval is how often the embedded server fsyncs JetStream
	// files: "always" (the default: a PubAck then means the batch is on
	// disk) or a duration such as "2m" (faster, but a power cut can lose
	// acknowledged batches).
	SyncInterval string `json:"sync_interval,omitempty"`
	// MaxPayload is the embedded server's largest message in bytes
	// (default 1 MiB, the NATS default; kiosk batches stay under 256 KiB).
	MaxPayload int `json:"max_payload,omitempty"`
	// Advertise are the NATS URLs given to kiosks at enrollment (default:
	// URLs, or the embedded server's client URL). Set it when kiosks reach
	// NATS under another name than the central does.
	Advertise []string `json:"advertise,omitempty"`
	// DevicesConf is where an external cluster's users are written (default
	// DATA/nats-devices.conf), mode 0644: it holds public nkeys only. Point
	// it to a place the NATS servers read, or copy it there.
	DevicesConf string `json:"devices_conf,omitempty"`
	// Replicas is the replication factor of the KV buckets the central
	// creates (default 1; 3 on a production cluster).
	Replicas int `json:"replicas,omitempty"`
	// TLSCert and TLSKey are the embedded server's PEM certificate and
	// key. Without them the central makes a CA and a certificate for the
	// listen host and the advertised hosts, kept in DATA/nats-tls (keys
	// 0600), and kiosks get the CA at enrollment, signed by the province's
	// root key.
	TLSCert string `json:"tls_cert,omitempty"`
	TLSKey  string `json:"tls_key,omitempty"`
	// TLSCA is the PEM CA certificate that the NATS servers' certificates
	// chain to, handed to kiosks at enrollment; empty with TLSCert (or an
	// external cluster): kiosks and the central use the system's roots.
	TLSCA string `json:"tls_ca,omitempty"`
	// Insecure runs the embedded server without TLS: kiosk links are
	// neither encrypted nor authenticated. Every start logs a WARN line.
	Insecure bool `json:"insecure,omitempty"`
}

// NotifyConfig configures how the central sends messages to the contacts
// of a case: to a file (notify.FileSink, the default) or to an SMS
// gateway (notify.Webhook). Never both.
type NotifyConfig struct {
	// File is the sink file, one JSON line per message, mode 0600
	// (default DATA/notify.jsonl). Not with WebhookURL.
	File string `json:"file,omitempty"`
	// WebhookURL is the SMS gateway's endpoint, https (http only to
	// localhost): each message is POSTed there.
	WebhookURL string `json:"webhook_url,omitempty"`
	// AuthFile holds the value of the gateway's Authorization header
	// ("Bearer …"), mode 0600; read at start. Only with WebhookURL.
	AuthFile string `json:"auth_file,omitempty"`
	// Body is the gateway request body, a text/template executed with the
	// message (.To, .Text, .Fallback, .Ref, .Body the whole text; json
	// quotes a value): default notify.DefaultBody. Only with WebhookURL.
	Body string `json:"body,omitempty"`
	// MaxAttempts bounds the tries of a message to the gateway (default 5,
	// at most 20), with jittered exponential backoff from 500 ms.
	MaxAttempts int `json:"max_attempts,omitempty"`
}

// NotifyFileOrDefault returns the sink file.
func (c *Config) NotifyFileOrDefault() string {
	if c.Notify.File != "" {
		return c.Notify.File
	}
	return filepath.Join(c.DataOrDefault(), NotifyFile)
}

// validateNotify checks the notify block, naming the field at fault.
func (c *Config) validateNotify() error {
	n := &c.Notify
	if n.WebhookURL == "" {
		if n.AuthFile != "" || n.Body != "" || n.MaxAttempts != 0 {
			return errors.New("config: notify.auth_file, notify.body, notify.max_attempts: only with notify.webhook_url")
		}
		return nil
	}
	if n.File != "" {
		return errors.New("config: notify.file and notify.webhook_url: choose one")
	}
	u, err := url.Parse(n.WebhookURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("config: notify.webhook_url: want an https:// URL, got %q", n.WebhookURL)
	}
	local := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"
	if u.Scheme != "https" && !(u.Scheme == "http" && local) {
		return fmt.Errorf("config: notify.webhook_url: want https (http only to localhost), got %q", u.Scheme)
	}
	if u.User != nil {
		return errors.New("config: notify.webhook_url: credentials in the URL; put them in notify.auth_file")
	}
	if n.Body != "" {
		if _, err := notify.ParseBody(n.Body); err != nil {
			return fmt.Errorf("config: notify.body: %w", err)
		}
	}
	if n.MaxAttempts < 0 || n.MaxAttempts > 20 {
		return fmt.Errorf("config: notify.max_attempts: %d out of range (1 to 20)", n.MaxAttempts)
	}
	return nil
}

// Defaults.
const (
	DefaultData         = "/var/lib/anshim-central"
	DefaultHTTP         = "127.0.0.1:8440"
	DefaultNATSListen   = "127.0.0.1:4223"
	DefaultTokenTTL     = 7 * 24 * time.Hour
	DefaultMaxPayload   = 1 << 20
	DefaultSyncInterval = "always"
)

// Files in the data directory.
const (
	// AdminTokenFile holds the bearer token of the admin API, mode 0600.
	AdminTokenFile = "admin.token"
	// NKeyFile holds the seed of the central's own NATS user, mode 0600.
	NKeyFile = "central.nk"
	// DevicesConfFile is the NATS "authorization" block with the central's
	// user and every enrolled device, for an external NATS cluster.
	DevicesConfFile = "nats-devices.conf"
	// StoreFile is the default bbolt store.
	StoreFile = "central.db"
	// NotifyFile is the default sink of the messages to contacts: one
	// JSON line each, mode 0600 (notify.FileSink).
	NotifyFile = "notify.jsonl"
)

// DataOrDefault returns the data directory.
func (c *Config) DataOrDefault() string {
	if c.Data != "" {
		return c.Data
	}
	return DefaultData
}

// KeysOrDefault returns the province key directory.
func (c *Config) KeysOrDefault() string {
	if c.Keys != "" {
		return c.Keys
	}
	return filepath.Join(c.DataOrDefault(), "province")
}

// StoreOrDefault returns the store specification.
func (c *Config) StoreOrDefault() string {
	if c.Store != "" {
		return c.Store
	}
	return "bolt:" + filepath.Join(c.DataOrDefault(), StoreFile)
}

// HTTPOrDefault returns the HTTP listen address.
func (c *Config) HTTPOrDefault() string {
	if c.HTTP != "" {
		return c.HTTP
	}
	return DefaultHTTP
}

// TokenTTLOrDefault returns the lifetime of enrollment tokens.
func (c *Config) TokenTTLOrDefault() time.Duration {
	if c.TokenTTL > 0 {
		return time.Duration(c.TokenTTL)
	}
	return DefaultTokenTTL
}

// NowOrDefault returns the clock.
func (c *Config) NowOrDefault() func() time.Time {
	if c.Now != nil {
		return c.Now
	}
	return time.Now
}

// EmbeddedNATS reports whether the central runs its own NATS server.
func (c *Config) EmbeddedNATS() bool { return len(c.NATS.URLs) == 0 }

// NKeyFileOrDefault returns the seed file of the central's NATS user.
func (c *Config) NKeyFileOrDefault() string {
	if c.NATS.NKeyFile != "" {
		return c.NATS.NKeyFile
	}
	return filepath.Join(c.DataOrDefault(), NKeyFile)
}

// NATSListenOrDefault returns the embedded server's client address.
func (c *Config) NATSListenOrDefault() string {
	if c.NATS.Listen != "" {
		return c.NATS.Listen
	}
	return DefaultNATSListen
}

// NATSStoreDirOrDefault returns the embedded server's JetStream directory.
func (c *Config) NATSStoreDirOrDefault() string {
	if c.NATS.StoreDir != "" {
		return c.NATS.StoreDir
	}
	return filepath.Join(c.DataOrDefault(), "nats")
}

// SyncIntervalOrDefault returns the embedded server's fsync policy:
// always, or every d.
func (c *Config) SyncIntervalOrDefault() (always bool, d time.Duration) {
	s := c.NATS.SyncInterval
	if s == "" || s == "always" {
		return true, 0
	}
	d, _ = ParseDuration(s) // checked by Validate
	return false, d
}

// MaxPayloadOrDefault returns the embedded server's largest message.
func (c *Config) MaxPayloadOrDefault() int {
	if c.NATS.MaxPayload > 0 {
		return c.NATS.MaxPayload
	}
	return DefaultMaxPayload
}

// DevicesConfOrDefault returns the path of the external cluster's users.
func (c *Config) DevicesConfOrDefault() string {
	if c.NATS.DevicesConf != "" {
		return c.NATS.DevicesConf
	}
	return filepath.Join(c.DataOrDefault(), DevicesConfFile)
}

// ReplicasOrDefault returns the KV buckets' replication factor.
func (c *Config) ReplicasOrDefault() int {
	if c.NATS.Replicas > 0 {
		return c.NATS.Replicas
	}
	return 1
}

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.DataOrDefault()) == "" {
		return errors.New("config: data: empty")
	}
	if _, err := storePath(c.StoreOrDefault()); err != nil {
		return fmt.Errorf("config: store: %w", err)
	}
	if _, _, err := net.SplitHostPort(c.HTTPOrDefault()); err != nil {
		return fmt.Errorf("config: http: %w", err)
	}
	if _, err := clientaddr.New(c.TrustedProxies); err != nil {
		return fmt.Errorf("config: trusted_proxies: %w", err)
	}
	if c.TokenTTL < 0 {
		return fmt.Errorf("config: token_ttl: negative (%v)", time.Duration(c.TokenTTL))
	}
	if c.QuarantineMaxBytes < 0 || c.QuarantineMaxEntries < 0 {
		return errors.New("config: quarantine_max_bytes, quarantine_max_entries: negative (0 is the default)")
	}
	n := &c.NATS
	if n.Embedded && len(n.URLs) > 0 {
		return errors.New("config: nats: both urls and embedded given; choose one")
	}
	for _, u := range append(append([]string(nil), n.URLs...), n.Advertise...) {
		if err := checkNATSURL(u); err != nil {
			return fmt.Errorf("config: nats: %w", err)
		}
	}
	if _, _, err := splitListen(c.NATSListenOrDefault()); err != nil {
		return fmt.Errorf("config: nats.listen: %w", err)
	}
	if s := n.SyncInterval; s != "" && s != "always" {
		d, err := ParseDuration(s)
		if err != nil || d <= 0 {
			return fmt.Errorf("config: nats.sync_interval: want \"always\" or a positive duration, got %q", s)
		}
	}
	if n.MaxPayload < 0 || n.MaxPayload > 64<<20 {
		return fmt.Errorf("config: nats.max_payload: %d out of range (0 to 64 MiB)", n.MaxPayload)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: tls_cert and tls_key: give both or neither")
	}
	if (n.TLSCert == "") != (n.TLSKey == "") {
		return errors.New("config: nats.tls_cert and nats.tls_key: give both or neither")
	}
	if n.Insecure && (n.TLSCert != "" || n.TLSCA != "") {
		return errors.New("config: nats.insecure with nats.tls_cert or nats.tls_ca: choose TLS or not")
	}
	if n.TLSCert != "" && len(n.URLs) > 0 {
		return errors.New("config: nats.tls_cert is the embedded server's: an external cluster has its own (give its CA as nats.tls_ca)")
	}
	if n.Replicas < 0 || n.Replicas > 5 {
		return fmt.Errorf("config: nats.replicas: %d out of range (1 to 5)", n.Replicas)
	}
	return c.validateNotify()
}

// checkNATSURL checks one NATS server URL.
func checkNATSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("url %q: %w", s, err)
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("url %q: want nats://HOST:PORT (or tls://, ws://, wss://)", s)
	}
	if u.Host == "" {
		return fmt.Errorf("url %q: no host", s)
	}
	return nil
}

// splitListen splits a listen address; port -1 means a free port.
func splitListen(addr string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: bad port", addr)
	}
	return h, port, nil
}

// storePath returns the path of a "bolt:PATH" store specification.
func storePath(spec string) (string, error) {
	if isPostgres(spec) {
		return spec, nil
	}
	path, ok := strings.CutPrefix(spec, "bolt:")
	if !ok || path == "" {
		return "", fmt.Errorf("%q: want bolt:PATH or postgres://USER@HOST:PORT/DB", spec)
	}
	return path, nil
}

// isPostgres reports whether a store spec names a PostgreSQL database.
func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// LoadConfig reads a JSON configuration file. Unknown fields are errors,
// so that a typo does not silently fall back to a default. The result is
// not validated yet: the command line may still override it.
func LoadConfig(path string) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("load config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("load config %s: %w", path, err)
	}
	if dec.More() {
		return Config{}, fmt.Errorf("load config %s: data after the JSON object", path)
	}
	return c, nil
}

// Duration is a time.Duration written as "10m", "7d" or "1h30m" in JSON.
type Duration time.Duration

// ParseDuration parses a Go duration, also accepting a whole number of days
// as "7d".
func ParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want a number of days such as 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"7d\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// String implements flag.Value: a whole number of days as "7d", anything
// else as time.Duration writes it ("36h0m0s"). ParseDuration reads either
// back.
func (d *Duration) String() string {
	if d == nil {
		return "0s"
	}
	v := time.Duration(*d)
	if v != 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
