package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/province"
)

// Ensure that serve under systemd (Type=notify: a real NOTIFY_SOCKET) sends
// READY=1 once it serves, not before, and STOPPING=1 when it stops.
func TestServe_SystemdNotify(t *testing.T) {
	dir := t.TempDir()
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	sdir, err := os.MkdirTemp("", "sdn") // sun_path is short
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sdir)
	sock := filepath.Join(sdir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	states := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			states <- strings.TrimSpace(string(buf[:n]))
		}
	}()
	started := make(chan struct{})
	e := &env{started: func(string, string) { close(started) }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- e.main(ctx, []string{"serve", "--data", filepath.Join(dir, "data"), "--keys", filepath.Join(dir, "keys"),
			"--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:-1"}, &stdout, &stderr)
	}()
	select {
	case s := <-states:
		t.Fatalf("%q before serving", s)
	case <-started:
	case code := <-exit:
		t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	select {
	case s := <-states:
		if s != "READY=1" {
			t.Fatalf("got %q, want READY=1", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no READY=1 on NOTIFY_SOCKET")
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	select {
	case s := <-states:
		if s != "STOPPING=1" {
			t.Fatalf("got %q at the stop, want STOPPING=1", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no STOPPING=1")
	}
}
