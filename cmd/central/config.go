package main

import (
	"flag"
	"strings"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/internal/cli"
)

// configFlags are the flags that override a central config file.
type configFlags struct {
	fs       *cli.FlagSet
	path     *string
	data     *string
	keys     *string
	store    *string
	http     *string
	tokenTTL central.Duration
	// NATS
	urls         *string
	embedded     *bool
	nkeyFile     *string
	listen       *string
	storeDir     *string
	syncInterval *string
	maxPayload   *int
	advertise    *string
	devicesConf  *string
	replicas     *int
	natsTLSCert  *string
	natsTLSKey   *string
	natsTLSCA    *string
	natsInsecure *bool
	tlsCert      *string
	tlsKey       *string
	proxies      *string
}

// addConfigFlags defines the config flags on fs; all selects the flags
// that only serve needs.
func addConfigFlags(fs *cli.FlagSet, all bool) *configFlags {
	f := &configFlags{fs: fs}
	f.path = fs.String("config", "", "JSON config `file` (see central.Config); flags override it")
	f.data = fs.String("data", "", "data `directory` (default "+central.DefaultData+")")
	f.store = fs.String("store", "", "store `spec`: bolt:PATH (default bolt:DATA/central.db) or postgres://USER@HOST:PORT/DB")
	f.keys = fs.String("keys", "", "province key `directory` made by 'anshim keygen' (default DATA/province)")
	if !all {
		return f
	}
	f.http = fs.String("http", "", "HTTP API listen `address` (default "+central.DefaultHTTP+")")
	// The flag's value starts at the default, which --help shows once; the
	// config takes it only when the flag is given (over a file's value).
	f.tokenTTL = central.Duration(central.DefaultTokenTTL)
	fs.Var(&f.tokenTTL, "token-ttl", "enrollment token lifetime `duration`, such as 7d or 36h")
	f.urls = fs.String("nats", "", "external NATS `URLs`, comma-separated (default: an embedded server)")
	f.embedded = fs.Bool("embedded-nats", false, "run an embedded NATS server (the default without --nats)")
	f.nkeyFile = fs.String("nats-nkey", "", "seed `file` of the central's own NATS user, created if missing (default DATA/central.nk)")
	f.listen = fs.String("nats-listen", "", "embedded NATS client `address` (default "+central.DefaultNATSListen+"; port -1 picks a free one)")
	f.storeDir = fs.String("nats-store", "", "embedded NATS JetStream `directory` (default DATA/nats)")
	f.syncInterval = fs.String("sync-interval", "", "embedded NATS fsync policy: `always` (default) or a duration")
	f.maxPayload = fs.Int("max-payload", 0, "embedded NATS largest message in `bytes` (default 1 MiB)")
	f.advertise = fs.String("nats-advertise", "", "NATS `URLs` given to kiosks at enrollment, comma-separated")
	f.devicesConf = fs.String("devices-conf", "", "`file` for an external cluster's users (default DATA/nats-devices.conf)")
	f.replicas = fs.Int("replicas", 0, "replicas of the KV buckets and stream (default 1; 3 on a cluster)")
	f.natsTLSCert = fs.String("nats-tls-cert", "", "embedded NATS TLS certificate `file` (PEM; default: made with the central's own CA in DATA/nats-tls)")
	f.natsTLSKey = fs.String("nats-tls-key", "", "embedded NATS TLS key `file` (PEM)")
	f.natsTLSCA = fs.String("nats-tls-ca", "", "CA certificate `file` of the NATS servers, given to kiosks (default: the central's own CA; none with --nats-tls-cert)")
	f.natsInsecure = fs.Bool("nats-insecure", false, "serve NATS without TLS (logs a WARN line at every start)")
	f.tlsCert = fs.String("tls-cert", "", "HTTPS certificate `file` (PEM) of the HTTP API")
	f.tlsKey = fs.String("tls-key", "", "HTTPS key `file` (PEM) of the HTTP API")
	f.proxies = fs.String("trusted-proxies", "", "reverse proxies in front of the HTTP API, comma-separated `addresses or networks` (10.0.0.0/8): the client address comes from their X-Forwarded-For")
	return f
}

// config loads the config file, if any, applies the flags that were given
// and validates the result.
func (f *configFlags) config(prog string) (central.Config, error) {
	var cfg central.Config
	if *f.path != "" {
		c, err := central.LoadConfig(*f.path)
		if err != nil {
			return cfg, cli.WithHint(err, "fix the file; run '%s --help' for the fields", prog)
		}
		cfg = c
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	str := func(name string, dst *string, v *string) {
		if set[name] {
			*dst = *v
		}
	}
	list := func(name string, dst *[]string, v *string) {
		if set[name] {
			*dst = nil
			for _, u := range strings.Split(*v, ",") {
				if u = strings.TrimSpace(u); u != "" {
					*dst = append(*dst, u)
				}
			}
		}
	}
	str("data", &cfg.Data, f.data)
	str("store", &cfg.Store, f.store)
	str("keys", &cfg.Keys, f.keys)
	if f.http != nil {
		str("http", &cfg.HTTP, f.http)
		if set["token-ttl"] {
			cfg.TokenTTL = f.tokenTTL
		}
		list("nats", &cfg.NATS.URLs, f.urls)
		if set["embedded-nats"] {
			cfg.NATS.Embedded = *f.embedded
			if *f.embedded && !set["nats"] {
				cfg.NATS.URLs = nil // the flag overrides a file's urls
			}
		}
		str("nats-nkey", &cfg.NATS.NKeyFile, f.nkeyFile)
		str("nats-listen", &cfg.NATS.Listen, f.listen)
		str("nats-store", &cfg.NATS.StoreDir, f.storeDir)
		str("sync-interval", &cfg.NATS.SyncInterval, f.syncInterval)
		if set["max-payload"] {
			cfg.NATS.MaxPayload = *f.maxPayload
		}
		list("nats-advertise", &cfg.NATS.Advertise, f.advertise)
		str("devices-conf", &cfg.NATS.DevicesConf, f.devicesConf)
		if set["replicas"] {
			cfg.NATS.Replicas = *f.replicas
		}
		str("nats-tls-cert", &cfg.NATS.TLSCert, f.natsTLSCert)
		str("nats-tls-key", &cfg.NATS.TLSKey, f.natsTLSKey)
		str("nats-tls-ca", &cfg.NATS.TLSCA, f.natsTLSCA)
		if set["nats-insecure"] {
			cfg.NATS.Insecure = *f.natsInsecure
		}
		str("tls-cert", &cfg.TLSCert, f.tlsCert)
		str("tls-key", &cfg.TLSKey, f.tlsKey)
		list("trusted-proxies", &cfg.TrustedProxies, f.proxies)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, cli.WithHint(cli.Usagef("%v", err), "run '%s --help' for usage", prog)
	}
	return cfg, nil
}
