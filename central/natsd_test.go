package central

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/anshim/anshim/internal/logtest"
)

// Ensure that a central whose NATS or HTTP port is taken fails at once
// with an error naming the port, instead of waiting for the embedded
// server's ready timeout.
func TestStart_PortInUse(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(cfg *Config, addr string)
		want string
	}{
		{"NATS", func(cfg *Config, addr string) { cfg.NATS.Listen = addr }, "start embedded NATS: client port "},
		{"HTTP", func(cfg *Config, addr string) { cfg.HTTP = addr }, "start HTTP: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			cfg, _ := testConfig(t, t.TempDir(), newTestClock())
			tt.set(&cfg, ln.Addr().String())
			s, err := New(cfg, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			err = s.Start(ctx)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), ":"+port) ||
				!strings.Contains(err.Error(), "address already in use") {
				t.Fatalf("Start with port %s taken: %v; want %q naming the port, in use", port, err, tt.want)
			}
			if took > 5*time.Second {
				t.Errorf("Start took %v to fail, want at once", took)
			}
		})
	}
}

// Ensure that the wait for the embedded server ends as soon as it logs a
// fatal error, such as a port taken after the central tried it, and that
// "Server is ready" is not logged after it.
func TestWaitReady_PortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, HTTPPort: 0, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	logged := &lockedBuffer{}
	logger := natsLogger{log: slog.New(slog.NewTextHandler(logged, nil)), fatal: &natsFatal{}}
	ns.SetLoggerV2(logger, false, false, false)
	start := time.Now()
	ns.Start()
	err = waitReady(ns, logger.fatal, 30*time.Second)
	took := time.Since(start)
	ns.Shutdown()
	ns.WaitForShutdown()
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("waitReady = %v, want the listen error naming port %d", err, port)
	}
	if took > 5*time.Second {
		t.Errorf("waitReady took %v, want at once", took)
	}
	if strings.Contains(logged.String(), "Server is ready") {
		t.Errorf("logged \"Server is ready\" after the fatal error:\n%s", logged.String())
	}
}

// lockedBuffer is a buffer that goroutines may write at once.
type lockedBuffer = logtest.Buffer
