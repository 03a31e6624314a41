package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/pass"
)

// Ensure that a second `kiosk run` on a data directory whose kiosk is
// running exits 1 within the outbox's lock timeout, saying that another
// kiosk process holds the outbox (with its path) and what to do — not "out
// of order", not re-provisioning — and that the first kiosk keeps working.
func TestCLI_Run_SecondKioskExits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the real binary")
	}
	bin := buildKiosk(t)
	keys, data := provisionKiosk(t)

	first := exec.Command(bin, "run", "--data", data, "--scanner", "stdin", "--feedback", "none", "--trust-clock", "--status-listen", "off")
	stdin, err := first.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Process.Kill(); first.Wait() })
	lines := make(chan scanLine, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l scanLine
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				lines <- l
			}
		}
	}()
	waitLine := func(msg string) scanLine {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the first kiosk exited before %q", msg)
				}
				if l.Msg == msg {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q line from the first kiosk", msg)
			}
		}
	}
	waitLine("kiosk started")

	second := exec.Command(bin, "run", "--data", data, "--scanner", "stdin", "--feedback", "none", "--trust-clock", "--status-listen", "off")
	var out, errOut bytes.Buffer
	second.Stdout, second.Stderr = &out, &errOut
	t0 := time.Now()
	err = second.Run()
	took := time.Since(t0)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second kiosk: %v, want exit status 1\nstderr: %s", err, errOut.String())
	}
	if took > 10*time.Second {
		t.Errorf("the second kiosk took %s to give up", took)
	}
	path := filepath.Join(data, kiosk.FileOutbox)
	stderr := errOut.String()
	if !strings.Contains(stderr, "kiosk: error:") || !strings.Contains(stderr, "another kiosk process holds "+path) ||
		!strings.Contains(stderr, "kiosk: hint: a kiosk is already running") {
		t.Errorf("second kiosk's stderr:\n%s", stderr)
	}
	if all := out.String() + stderr; strings.Contains(all, "out of order") || strings.Contains(all, "re-provision") {
		t.Errorf("the second kiosk talks of out of order or re-provisioning:\n%s%s", out.String(), stderr)
	}
	t.Logf("the second kiosk exited 1 after %s", took.Round(time.Millisecond))

	// The first kiosk still records.
	p := pass.Pass{Kind: pass.KindApp, Issued: time.Now().Add(-time.Hour).Truncate(time.Second), Expires: time.Now().Add(24 * time.Hour).Truncate(time.Second)}
	rand.Read(p.Pseudonym[:])
	text, err := keys.Signer().Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write([]byte(text + "\n")); err != nil {
		t.Fatal(err)
	}
	if l := waitLine("scan"); l.Result != "accepted" || l.Seq != 1 {
		t.Errorf("the first kiosk after the second gave up: %+v", l)
	}
	first.Process.Signal(syscall.SIGTERM)
	if err := first.Wait(); err != nil {
		t.Errorf("the first kiosk did not stop cleanly: %v", err)
	}
}
