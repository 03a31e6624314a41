package faulttest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/pass"
)

// kioskNode is an enrolled kiosk data directory and the runs of
// `kiosk run --scanner stdin` on it.
type kioskNode struct {
	t      *testing.T
	c      *cluster
	name   string
	data   string
	device string
	venue  string
	log    *lineLog

	p       *proc
	answers chan scanLine // the current run's answers to scans
	runs    int
}

// scanLine is the kiosk's JSON log line for one scan.
type scanLine struct {
	Msg    string `json:"msg"`
	Result string `json:"result"`
	Seq    uint64 `json:"seq"`
	Reason string `json:"reason"`
}

// statusLine is the kiosk's periodic "sync status" line.
type statusLine struct {
	Msg       string `json:"msg"`
	Connected bool   `json:"connected"`
	Pending   int    `json:"pending"`
	InFlight  int    `json:"in_flight"`
}

// start runs the kiosk: scans on standard input, no feedback, the clock
// trusted, the sync status logged every second; cfg adds to the config
// file (kiosk.Config fields). It returns once the kiosk logged its start.
func (k *kioskNode) start(cfg map[string]any) int {
	k.t.Helper()
	k.runs++
	conf := map[string]any{"maintenance": "1s", "status_listen": "off"}
	if k.c.nats != nil {
		conf["nats_insecure"] = true // the external nats-server runs without TLS
	}
	for key, v := range cfg {
		conf[key] = v
	}
	b, _ := json.Marshal(conf)
	path := filepath.Join(filepath.Dir(k.data), k.name+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		k.t.Fatal(err)
	}
	answers := make(chan scanLine, 1<<16)
	k.answers = answers
	onLine := func(s string) {
		if strings.Contains(s, `"msg":"scan"`) {
			var l scanLine
			if err := json.Unmarshal([]byte(s), &l); err == nil && l.Msg == "scan" {
				answers <- l
			}
		}
	}
	mark := k.log.len()
	k.p = startProc(k.t, k.log, true, onLine, bins.kiosk, "run", "--data", k.data, "--config", path,
		"--scanner", "stdin", "--feedback", "none", "--trust-clock")
	if _, ok := k.log.wait(mark, 60*time.Second, k.p.done, contains(`"msg":"kiosk started"`)); !ok {
		k.t.Fatalf("%s (run %d) did not start", k.name, k.runs)
	}
	return mark
}

// errDied: the kiosk exited before answering a scan.
var errDied = errors.New("kiosk exited before answering")

// scan writes one pass to the kiosk's scanner and returns its answer.
func (k *kioskNode) scan(text string) (scanLine, error) {
	p, answers := k.p, k.answers
	if _, err := io.WriteString(p.stdin, text+"\n"); err != nil {
		select {
		case <-p.done:
			return scanLine{}, errDied
		case <-time.After(5 * time.Second):
			return scanLine{}, fmt.Errorf("%s: write scan: %w", k.name, err)
		}
	}
	select {
	case l := <-answers:
		return l, nil
	case <-p.done:
		select {
		case l := <-answers: // answered just before the end
			return l, nil
		default:
			return scanLine{}, errDied
		}
	case <-time.After(30 * time.Second):
		return scanLine{}, fmt.Errorf("%s: no answer to a scan within 30s", k.name)
	}
}

// stop stops the kiosk with SIGTERM.
func (k *kioskNode) stop() { k.p.stop(k.t, 30*time.Second) }

// waitDrained waits for a "sync status" line, logged after mark, that
// reports an empty outbox and nothing in flight.
func (k *kioskNode) waitDrained(timeout time.Duration) {
	k.t.Helper()
	mark := k.log.len()
	_, ok := k.log.wait(mark, timeout, k.p.done, func(s string) bool {
		var l statusLine
		return strings.Contains(s, `"msg":"sync status"`) && json.Unmarshal([]byte(s), &l) == nil &&
			l.Connected && l.Pending == 0 && l.InFlight == 0
	})
	if !ok {
		k.t.Fatalf("%s: outbox not drained within %v", k.name, timeout)
	}
}

// outboxStats runs `kiosk outbox --data` on the stopped kiosk.
func (k *kioskNode) outboxStats() (kiosk.OutboxStats, error) {
	var st kiosk.OutboxStats
	out, err := runCmd(k.t, bins.kiosk, "outbox", "--data", k.data)
	if jerr := json.Unmarshal(out, &st); jerr != nil {
		return st, fmt.Errorf("kiosk outbox of %s: %q: %v (%v)", k.name, out, jerr, err)
	}
	return st, err
}

// passes issues passes with the province keys, as the province's app would.
type passes struct {
	signer pass.Signer
}

// sent is a pass shown to a kiosk.
type sent struct {
	text   string
	pseudo [16]byte
}

func (ps passes) issue() (sent, error) {
	now := time.Now()
	p := pass.Pass{Kind: pass.KindApp, Issued: now.Add(-time.Hour).Truncate(time.Second), Expires: now.Add(24 * time.Hour).Truncate(time.Second)}
	rand.Read(p.Pseudonym[:])
	text, err := ps.signer.Issue(p)
	return sent{text, p.Pseudonym}, err
}

// ledger is what the test knows was recorded: every pass it showed and
// the kiosks' answers, and every record it wrote into an outbox directly.
type ledger struct {
	mu     sync.Mutex
	passes map[[16]byte]*passRec
}

type passRec struct {
	device string
	// result is the last answer: "accepted" (seq is the logged sequence),
	// "duplicate" (recorded in a run that was killed before answering),
	// "" (never answered: must not be recorded) or "appended" (written
	// into the outbox by the test at seq, with at).
	result string
	seq    uint64
	killed bool // shown to a kiosk that was killed before it answered
	at     kiosk.Stamp
	kind   checkin.Kind
}

func newLedger() *ledger { return &ledger{passes: map[[16]byte]*passRec{}} }

// answer records the kiosk's answer to a pass, or the kiosk's death
// before answering (err == errDied), and checks it is one a kiosk may give.
// It may run on any goroutine: it returns what is wrong.
func (l *ledger) answer(k *kioskNode, s sent, a scanLine, err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.passes[s.pseudo]
	if r == nil {
		r = &passRec{device: k.device}
		l.passes[s.pseudo] = r
	}
	if r.device != k.device {
		return fmt.Errorf("pass shown to %s and %s", r.device, k.device)
	}
	switch {
	case errors.Is(err, errDied):
		r.killed = true
		return nil
	case err != nil:
		return err
	}
	switch a.Result {
	case "accepted":
		if r.result == "accepted" {
			return fmt.Errorf("%s: the same pass accepted twice (seq %d and %d)", k.name, r.seq, a.Seq)
		}
		if a.Seq == 0 {
			return fmt.Errorf("%s: accepted without a sequence", k.name)
		}
		r.result, r.seq = "accepted", a.Seq
	case "duplicate":
		// Only a pass whose first showing was cut by a kill may have been
		// recorded without an answer.
		if !r.killed || r.result == "accepted" {
			return fmt.Errorf("%s: pass answered duplicate (%s) though it was never recorded", k.name, a.Reason)
		}
		r.result = "duplicate"
	default:
		return fmt.Errorf("%s: scan answered %+v", k.name, a)
	}
	return nil
}

// appended records a record the test wrote into an outbox directly.
func (l *ledger) appended(device string, pseudo [16]byte, seq uint64, at kiosk.Stamp, kind checkin.Kind) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.passes[pseudo] = &passRec{device: device, result: "appended", seq: seq, at: at, kind: kind}
}

// recorded returns the number of passes recorded per device.
func (l *ledger) recorded() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := map[string]int{}
	for _, r := range l.passes {
		if r.result != "" {
			n[r.device]++
		}
	}
	return n
}

// scanLoop shows new passes to k until ctx is done or the kiosk dies, one
// at a time with a pause of gap between them, and records the answers. It
// starts with again, if not nil: a pass a killed run never answered, shown
// again as a visitor would. It returns the number of scans, the pass left
// unanswered by a kiosk that died, and what went wrong. It may run on any
// goroutine.
func scanLoop(ctx context.Context, k *kioskNode, ps passes, l *ledger, gap time.Duration, again *sent) (int, *sent, error) {
	n := 0
	for ctx.Err() == nil {
		s := again
		if s == nil {
			v, err := ps.issue()
			if err != nil {
				return n, nil, err
			}
			s = &v
		}
		a, err := k.scan(s.text)
		n++
		if err := l.answer(k, *s, a, err); err != nil {
			return n, nil, err
		}
		if errors.Is(err, errDied) {
			return n, s, nil
		}
		again = nil
		sleepCtx(ctx, gap)
	}
	return n, nil, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func randDuration(lo, hi time.Duration) time.Duration {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(hi-lo)+1))
	return lo + time.Duration(v.Int64())
}
