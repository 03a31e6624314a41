package main

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

// buildKiosk compiles the real kiosk binary for process-level tests.
func buildKiosk(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kiosk")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build kiosk: %v\n%s", err, out)
	}
	return bin
}

// provisionKiosk makes province keys and a provisioned kiosk directory.
func provisionKiosk(t testing.TB) (*province.Keys, string) {
	t.Helper()
	keys, err := province.Generate(rand.Reader, "crash")
	if err != nil {
		t.Fatal(err)
	}
	kdir := filepath.Join(t.TempDir(), "keys")
	if err := keys.Save(kdir); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "kiosk")
	if _, err := kiosk.Provision(data, filepath.Join(kdir, "public.json"), "v-crash", time.Now()); err != nil {
		t.Fatal(err)
	}
	return keys, data
}

// rawPTY opens a pseudo-terminal in raw mode: the test writes to the master
// what a USB scanner would send; the kiosk opens the slave's path.
func rawPTY(t testing.TB) (master, slave *os.File) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, m) // nothing should come back; never let it block
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

type scanLine struct {
	Msg    string `json:"msg"`
	Result string `json:"result"`
	Seq    uint64 `json:"seq"`
	Reason string `json:"reason"`
}

// kioskProc is one run of the real kiosk binary.
type kioskProc struct {
	cmd   *exec.Cmd
	lines chan scanLine
	ready chan struct{}
}

func startKiosk(t testing.TB, bin, data, tty string) *kioskProc {
	t.Helper()
	cmd := exec.Command(bin, "run", "--data", data, "--scanner", "serial:"+tty, "--feedback", "none", "--trust-clock", "--status-listen", "off")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &kioskProc{cmd: cmd, lines: make(chan scanLine, 1024), ready: make(chan struct{})}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		once := false
		for sc.Scan() {
			var l scanLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			if l.Msg == "scanner connected" && !once {
				once = true
				close(p.ready)
			}
			if l.Msg == "scan" {
				p.lines <- l
			}
		}
	}()
	return p
}

func randN(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}

// TestCrash_SIGKILL runs the real kiosk binary fed by a pseudo-terminal
// scanner, kills it with SIGKILL at random moments while scans stream in,
// restarts it, and proves that every scan logged "accepted" is in the outbox
// exactly once, at the sequence it was logged with, with a valid chain; that
// a scan committed just before a kill, so in the outbox without an
// "accepted" line, is answered "already checked in" (duplicate) when the
// visitor scans again after the restart; and that nothing else is: every
// record is of a pass the kiosk answered, each pass at most once.
func TestCrash_SIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("NOT RUN in -short: the crash test starts the real binary 50+ times")
	}
	bin := buildKiosk(t)
	keys, data := provisionKiosk(t)
	master, slave := rawPTY(t)
	tty := slave.Name()
	signer := keys.Signer()

	const kills = 55
	type sent struct {
		text   string
		pseudo [16]byte
	}
	var queue []sent // scans not yet answered, oldest first
	newPass := func() sent {
		p := pass.Pass{Kind: pass.KindApp, Issued: time.Now().Add(-time.Hour).Truncate(time.Second), Expires: time.Now().Add(24 * time.Hour).Truncate(time.Second)}
		rand.Read(p.Pseudonym[:])
		text, err := signer.Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		return sent{text, p.Pseudonym}
	}
	acceptedAt := map[uint64][16]byte{} // seq logged accepted → pass
	answered := map[[16]byte]string{}   // pass → last answer
	scans, killedMidScan := 0, 0

	for run := 0; run < kills; run++ {
		// Bytes the killed kiosk never read would be a second scan of the
		// pass the test sends again: drop them, as a replugged scanner would.
		if err := unix.IoctlSetInt(int(slave.Fd()), unix.TCFLSH, unix.TCIFLUSH); err != nil {
			t.Fatal(err)
		}
		p := startKiosk(t, bin, data, tty)
		select {
		case <-p.ready:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			t.Fatalf("run %d: kiosk did not connect to the scanner", run)
		}
		deadline := time.Now().Add(time.Duration(randN(120)+5) * time.Millisecond)
		killed := false
		for !killed {
			if len(queue) == 0 {
				queue = append(queue, newPass())
			}
			s := queue[0]
			scans++
			// Alternate terminators as real scanners do.
			term := []string{"\r", "\n", "\r\n"}[scans%3]
			if _, err := master.WriteString(s.text + term); err != nil {
				t.Fatal(err)
			}
			var l scanLine
			var ok bool
			select {
			case l, ok = <-p.lines:
			case <-time.After(time.Until(deadline)):
				p.cmd.Process.Signal(syscall.SIGKILL)
				p.cmd.Wait()
				killed = true
				// A line written before the kill still counts.
				l, ok = <-p.lines
				if !ok {
					killedMidScan++
					continue // unanswered: the visitor scans again after the restart
				}
			}
			if !ok {
				t.Fatalf("run %d: kiosk exited unexpectedly", run)
			}
			switch l.Result {
			case "accepted":
				if prev, dup := acceptedAt[l.Seq]; dup {
					t.Fatalf("seq %d logged accepted twice (%x, %x)", l.Seq, prev[:4], s.pseudo[:4])
				}
				if answered[s.pseudo] == "accepted" {
					t.Fatalf("the same pass was accepted twice")
				}
				acceptedAt[l.Seq] = s.pseudo
			case "duplicate":
				// Only a pass whose first scan was cut by a kill may be a duplicate.
			default:
				t.Fatalf("run %d: unexpected %+v", run, l)
			}
			answered[s.pseudo] = l.Result
			queue = queue[1:]
			if !killed && time.Now().After(deadline) {
				p.cmd.Process.Signal(syscall.SIGKILL)
				p.cmd.Wait()
				for range p.lines {
					t.Fatalf("answer to a scan never sent")
				}
				killed = true
			}
		}
	}
	// A last clean run answers whatever is still queued, then stops on SIGTERM.
	p := startKiosk(t, bin, data, tty)
	<-p.ready
	for _, s := range queue {
		master.WriteString(s.text + "\r")
		l := <-p.lines
		if l.Result == "accepted" {
			acceptedAt[l.Seq] = s.pseudo
		}
		answered[s.pseudo] = l.Result
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("kiosk did not stop cleanly on SIGTERM: %v", err)
	}

	// `kiosk outbox` verifies the chain and the signed head.
	out, err := exec.Command(bin, "outbox", "--data", data).Output()
	if err != nil {
		t.Fatalf("kiosk outbox: %v\n%s", err, out)
	}
	var st kiosk.OutboxStats
	if err := json.Unmarshal(out, &st); err != nil || !st.ChainOK {
		t.Fatalf("outbox summary %s: %v", out, err)
	}

	dev, _ := kiosk.LoadDevice(data)
	ob, err := kiosk.OpenOutbox(filepath.Join(data, kiosk.FileOutbox), dev.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	inOutbox := map[[16]byte]uint64{}
	ob.Scan(0, func(seq uint64, b []byte) bool {
		r, err := checkin.Decode(b)
		if err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
		pers, err := checkin.Open(r.Sealed, keys.SealingPublicKey(), keys.SealingPrivateKey())
		if err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
		if prev, dup := inOutbox[pers.Pseudonym]; dup {
			t.Fatalf("pass recorded twice, at %d and %d", prev, seq)
		}
		if _, known := answered[pers.Pseudonym]; !known {
			t.Fatalf("record %d is of a pass never answered", seq)
		}
		inOutbox[pers.Pseudonym] = seq
		return true
	})
	for seq, ps := range acceptedAt {
		if inOutbox[ps] != seq {
			t.Fatalf("scan logged accepted at seq %d is in the outbox at %d", seq, inOutbox[ps])
		}
	}
	if len(inOutbox) != len(answered) || st.Records != len(answered) {
		t.Fatalf("%d passes answered, %d in the outbox (%d records)", len(answered), len(inOutbox), st.Records)
	}
	dups := 0
	for _, r := range answered {
		if r == "duplicate" {
			dups++
		}
	}
	t.Logf("%d kills (%d mid-scan), %d scans sent, %d passes recorded once each, %d answered duplicate after a crash", kills, killedMidScan, scans, st.Records, dups)
}
