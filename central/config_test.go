package central

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Ensure that the defaults hang off the data directory.
func TestConfig_Defaults(t *testing.T) {
	var c Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ got, want string }{
		{c.DataOrDefault(), DefaultData},
		{c.KeysOrDefault(), DefaultData + "/province"},
		{c.StoreOrDefault(), "bolt:" + DefaultData + "/central.db"},
		{c.HTTPOrDefault(), "127.0.0.1:8440"},
		{c.NATSListenOrDefault(), "127.0.0.1:4223"},
		{c.NATSStoreDirOrDefault(), DefaultData + "/nats"},
		{c.NKeyFileOrDefault(), DefaultData + "/central.nk"},
		{c.DevicesConfOrDefault(), DefaultData + "/nats-devices.conf"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if always, _ := c.SyncIntervalOrDefault(); !always {
		t.Error("sync interval is not always by default")
	}
	if !c.EmbeddedNATS() || c.TokenTTLOrDefault() != 7*24*time.Hour || c.MaxPayloadOrDefault() != 1<<20 || c.ReplicasOrDefault() != 1 {
		t.Error("wrong defaults")
	}
	c.Data = "/srv/c"
	if c.StoreOrDefault() != "bolt:/srv/c/central.db" {
		t.Errorf("store = %s", c.StoreOrDefault())
	}
}

// Ensure that a config file loads, refuses unknown fields, and that
// Validate names the field at fault.
func TestConfig_LoadValidate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "central.json")
	os.WriteFile(path, []byte(`{"data":"/srv/c","token_ttl":"2d","quarantine_max_entries":50,"nats":{"urls":["nats://a:4222"],"sync_interval":"1m","replicas":3}}`), 0o644)
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.TokenTTLOrDefault() != 48*time.Hour || c.EmbeddedNATS() || c.ReplicasOrDefault() != 3 || c.QuarantineMaxEntries != 50 {
		t.Errorf("config = %+v", c)
	}
	if always, d := c.SyncIntervalOrDefault(); always || d != time.Minute {
		t.Errorf("sync interval = %v %v", always, d)
	}
	os.WriteFile(path, []byte(`{"data":"/srv/c","nats":{"url":"nats://a"}}`), 0o644)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("unknown field: err = %v", err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Store = "mysql://x" }, "store"},
		{func(c *Config) { c.Store = "bolt:" }, "store"},
		{func(c *Config) { c.HTTP = "nohost" }, "http"},
		{func(c *Config) { c.NATS.Embedded, c.NATS.URLs = true, []string{"nats://a:1"} }, "choose one"},
		{func(c *Config) { c.NATS.URLs = []string{"http://a:1"} }, "nats://"},
		{func(c *Config) { c.NATS.Listen = "127.0.0.1:x" }, "nats.listen"},
		{func(c *Config) { c.NATS.SyncInterval = "sometimes" }, "sync_interval"},
		{func(c *Config) { c.NATS.MaxPayload = -1 }, "max_payload"},
		{func(c *Config) { c.TokenTTL = -1 }, "token_ttl"},
		{func(c *Config) { c.QuarantineMaxBytes = -1 }, "quarantine_max_bytes"},
		{func(c *Config) { c.QuarantineMaxEntries = -1 }, "quarantine_max_entries"},
	} {
		var c Config
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error about %s", err, tc.want)
		}
	}
}

// Ensure that a Duration prints whole days as "7d", and that what it
// prints parses back to the same duration (the flag's shown default).
func TestDuration_String(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{DefaultTokenTTL, "7d"},
		{24 * time.Hour, "1d"},
		{36 * time.Hour, "36h0m0s"},
		{90 * time.Minute, "1h30m0s"},
	} {
		d := Duration(tt.d)
		if got := d.String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.d, got, tt.want)
		}
		if back, err := ParseDuration(d.String()); err != nil || back != tt.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", d.String(), back, err, tt.d)
		}
	}
}
