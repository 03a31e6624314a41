package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/kiosk"
)

const runUsage = `Usage: kiosk run --data DIR [--config FILE] [--scanner SPEC]... [flags]

Run runs the kiosk: it reads passes from the scanners, verifies them
offline, commits each check-in to the outbox before any feedback, and logs
one JSON line per scan on standard output (never the pass or any personal
data). It syncs with the central when the kiosk is enrolled. It stops on
SIGTERM or Ctrl-C.

Scanner SPECs:

	serial:/dev/serial/by-id/usb-...[,BAUD][,exit]  USB scanner, serial/CDC-ACM mode
	evdev:/dev/input/by-id/...-event-kbd[,exit]      keyboard-wedge scanner (grabbed)
	camera:PATH[,exit]     MJPEG from a pipe or file, such as rpicam-vid --codec mjpeg -o -
	stdin[:exit]           one code per line on standard input

Flags override the config file (JSON; every field in docs/config.md).

Examples:

	kiosk run --data /var/lib/anshim --scanner serial:/dev/serial/by-id/usb-Honeywell-if00
	kiosk run --config /etc/anshim/kiosk.json`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return "" }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runRun runs "kiosk run".
func (e *env) runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("kiosk run", runUsage)
	configPath := flags.String("config", "", "JSON config `FILE`")
	var cfg kiosk.Config
	var scanners stringList
	data := flags.String("data", "", "kiosk data `DIR`")
	flags.Var(&scanners, "scanner", "input device `SPEC` (repeatable)")
	mode := flags.String("mode", "", "entry or exit")
	feedback := flags.String("feedback", "", "terminal, gpio or none")
	var debounce, offset kiosk.Duration
	flags.Var(&debounce, "debounce", "same-pass window `DURATION` (default 10m; negative disables)")
	flags.Var(&offset, "clock-offset", "shift the wall clock by `DURATION` (demos of a wrong clock)")
	trust := flags.Bool("trust-clock", false, "trust the wall clock without timesyncd or an RTC")
	statusListen := flags.String("status-listen", "", "status page `ADDRESS` (default 127.0.0.1:8081; off disables)")
	natsInsecure := flags.Bool("nats-insecure", false, "allow NATS without TLS when the enrollment gave no CA (logs a WARN at every start)")
	if err := flags.ParseOnlyFlags(args, stdout); err != nil {
		return err
	}
	if *configPath != "" {
		c, err := kiosk.LoadConfig(*configPath)
		if err != nil {
			return cli.WithHint(err, "fix the file: its fields are in docs/config.md and systemd/kiosk.json.example")
		}
		cfg = c
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["data"] {
		cfg.Data = *data
	}
	if set["scanner"] {
		cfg.Scanners = scanners
	}
	if set["mode"] {
		cfg.Mode = *mode
	}
	if set["feedback"] {
		cfg.Feedback = *feedback
	}
	if set["debounce"] {
		cfg.Debounce = debounce
	}
	if set["clock-offset"] {
		cfg.ClockOffset = offset
	}
	if set["trust-clock"] {
		cfg.TrustClock = *trust
	}
	if set["status-listen"] {
		cfg.StatusListen = *statusListen
	}
	if set["nats-insecure"] {
		cfg.NATSInsecure = *natsInsecure
	}
	if err := cfg.Validate(); err != nil {
		return flags.Usagef("%v", err)
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	// Under systemd (Type=notify, WatchdogSec=): READY=1 and watchdog pings.
	notify, watchdog, err := kiosk.SystemdNotifier()
	if err != nil {
		return cli.WithHint(err, "WATCHDOG_USEC comes from the unit's WatchdogSec=: check systemd/anshim-kiosk.service")
	}
	err = kiosk.Run(ctx, cfg, kiosk.Env{Log: log, Stdin: e.stdin, Stderr: stderr, Notify: notify, Watchdog: watchdog})
	switch {
	case errors.Is(err, kiosk.ErrLocked):
		return cli.WithHint(err, "a kiosk is already running on %s: stop it first ('systemctl stop anshim-kiosk'), or give this one its own --data directory; the outbox itself is fine", cfg.Data)
	case errors.Is(err, kiosk.ErrNotProvisioned):
		return notProvisionedHint(err, cfg.Data)
	}
	return err
}
