package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/anshim/anshim/internal/procs"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/province"
)

const serveUsage = `Usage: central serve [--config FILE] [--data DIR] [flags]

Serve runs the central server until SIGTERM or SIGINT:

  - the store (bbolt, DATA/central.db by default);
  - NATS JetStream: a server embedded in this process (the default; client
    port 127.0.0.1:4223, JetStream files in DATA/nats, fsync on every write)
    or, with --nats, an external cluster; the central then writes each
    kiosk's NATS user to DATA/nats-devices.conf, which every NATS server
    includes (by a path relative to its own config file) and reloads with
    'nats-server --signal reload' after each enrollment;
  - the down-sync KV buckets (revoked passes, pass keys, sealing key,
    venues; keys signed by the province's root key), ingest of kiosk
    batches, and the HTTP API (127.0.0.1:8440; HTTPS with --tls-cert and
    --tls-key).

The embedded NATS server speaks TLS only: with its own CA and a server
certificate for the listen host and --nats-advertise hosts, made at the
first start in DATA/nats-tls (keys 0600), or with --nats-tls-cert and
--nats-tls-key. Kiosks get the CA at enrollment, signed by the province's
root key, and trust only it. --nats-insecure serves plaintext and says so
in a WARN line at every start.

Kiosks enroll over https://, or over http:// with the bundle's SHA-256
pinned ('kiosk enroll --bundle-sha256 HEX'); serve prints it.

At the first start it creates DATA/admin.token, the bearer token of the
admin API, and DATA/central.nk, the central's NATS key, both mode 0600.
It logs JSON lines on standard output and says on standard error where
everything is.

The province keys (made by 'anshim keygen') are read from DATA/province
or --keys.

Examples:

	central serve --data /var/lib/anshim-central --keys /etc/anshim/keys
	central serve --config /etc/anshim/central.json
	central serve --data /var/lib/anshim-central --nats nats://n1:4222,nats://n2:4222 --replicas 3`

// runServe runs "central serve".
func (e *env) runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "central serve"
	flags := cli.NewFlagSet(prog, serveUsage)
	cf := addConfigFlags(flags, true)
	logLevel := flags.String("log-level", "info", "log `level`: debug, info, warn or error")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.WithHint(cli.Usagef("unexpected argument %q", rest[0]), "run '%s --help' for usage", prog)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return cli.WithHint(cli.Usagef("--log-level %q: %v", *logLevel, err), "use debug, info, warn or error")
	}
	cfg, err := cf.config(prog)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: level}))
	// Twice as many Ps as cores: the store's fsyncs hold theirs (internal/procs).
	log.Debug("central: scheduler", "gomaxprocs", procs.ForFsync(os.Getenv))

	srv, err := central.New(cfg, log)
	if err != nil {
		if errors.Is(err, province.ErrNoRootKey) {
			return cli.WithHint(err, "kiosks take key updates only signed by the province's root key")
		}
		if errors.Is(err, fs.ErrNotExist) {
			return cli.WithHint(err, "make the province keys with 'anshim keygen --dir %s', or give --keys DIR", cfg.KeysOrDefault())
		}
		return cli.WithHint(err, "is another central running with --data %s?", cfg.DataOrDefault())
	}
	defer srv.Close()
	if err := srv.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			return cli.WithHint(err, "another program listens on that port (another central?): stop it, or give another --http or --nats-listen address")
		}
		return cli.WithHint(err, "check the addresses (--http, --nats-listen) are free and NATS is reachable")
	}
	natsDesc := "embedded, JetStream in " + cfg.NATSStoreDirOrDefault()
	if !cfg.EmbeddedNATS() {
		natsDesc = "external; users in " + cfg.DevicesConfOrDefault()
	}
	fmt.Fprintf(stderr, "central: HTTP API     %s\n", srv.HTTPURL())
	fmt.Fprintf(stderr, "central: NATS         %s (%s)\n", srv.NATSURL(), natsDesc)
	fmt.Fprintf(stderr, "central: admin token  %s\n", srv.AdminTokenFile())
	fmt.Fprintf(stderr, "central: store        %s\n", cfg.StoreOrDefault())
	fmt.Fprintf(stderr, "central: province     %s\n", filepath.Clean(cfg.KeysOrDefault()))
	fmt.Fprintf(stderr, "central: bundle sha256 %s (kiosk enroll --bundle-sha256)\n", srv.BundleSHA256())
	if cfg.EmbeddedNATS() && !cfg.NATS.Insecure && cfg.NATS.TLSCert == "" {
		fmt.Fprintf(stderr, "central: NATS CA      %s\n", filepath.Join(cfg.DataOrDefault(), central.NATSTLSDir, central.NATSCAFile))
	}
	if e.started != nil {
		e.started(srv.HTTPURL(), srv.NATSURL())
	}
	// Under systemd (Type=notify): serving now. Outside systemd nothing is sent.
	if _, err := sddaemon.SdNotify(false, sddaemon.SdNotifyReady); err != nil {
		log.Warn("notify systemd", "err", err)
	}
	waitErr := srv.Wait(ctx)
	sddaemon.SdNotify(false, sddaemon.SdNotifyStopping)
	closeErr := srv.Close()
	if waitErr != nil {
		return waitErr
	}
	return closeErr
}
