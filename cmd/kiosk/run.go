package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"

	"github.com/anshim/anshim/kiosk"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return "" }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("run", "--data DIR [--config FILE] [--scanner SPEC]... [flags]",
		"Runs the kiosk: reads passes from the scanners, verifies them offline, commits\n"+
			"each check-in to the outbox before any feedback, and logs one JSON line per scan\n"+
			"on standard output (never the pass or any personal data). Stops on SIGTERM.\n\n"+
			"Scanner SPECs:\n"+
			"  serial:/dev/serial/by-id/usb-...[,BAUD][,exit]  USB scanner, serial/CDC-ACM mode\n"+
			"  evdev:/dev/input/by-id/...-event-kbd[,exit]      keyboard-wedge scanner (grabbed)\n"+
			"  camera:PATH[,exit]     MJPEG from a pipe/file, e.g. `rpicam-vid --codec mjpeg -o -`\n"+
			"  stdin[:exit]           one code per line on standard input\n\n"+
			"Flags override the config file (JSON, see kiosk.Config).\n\n"+
			"Example:\n  kiosk run --data /var/lib/anshim --scanner serial:/dev/serial/by-id/usb-Honeywell-if00", stderr)
	configPath := fs.String("config", "", "JSON config `FILE`")
	var cfg kiosk.Config
	var scanners stringList
	data := fs.String("data", "", "kiosk data `DIR`")
	fs.Var(&scanners, "scanner", "input device `SPEC` (repeatable)")
	mode := fs.String("mode", "", "entry or exit")
	feedback := fs.String("feedback", "", "terminal, gpio or none")
	var debounce, offset kiosk.Duration
	fs.Var(&debounce, "debounce", "same-pass window `DURATION` (default 10m; negative disables)")
	fs.Var(&offset, "clock-offset", "shift the wall clock by `DURATION` (demos of a wrong clock)")
	trust := fs.Bool("trust-clock", false, "trust the wall clock without timesyncd or an RTC")
	statusListen := fs.String("status-listen", "", "status page `ADDRESS` (default 127.0.0.1:8081; off disables)")
	natsInsecure := fs.Bool("nats-insecure", false, "allow NATS without TLS when the enrollment gave no CA (logs a WARN at every start)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *configPath != "" {
		c, err := kiosk.LoadConfig(*configPath)
		if err != nil {
			return err
		}
		cfg = c
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
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
		return withHint(err, "see `kiosk run --help`")
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	err := kiosk.Run(ctx, cfg, kiosk.Env{Log: log, Stdin: stdin, Stderr: stderr})
	if errors.Is(err, kiosk.ErrLocked) {
		return withHint(err, "a kiosk is already running on "+cfg.Data+": stop it first (`systemctl stop anshim-kiosk`), or give this one its own --data directory; the outbox itself is fine")
	}
	return err
}
