package kiosk

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/internal/logtest"
)

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer = logtest.Buffer

// Ensure that the stdin scanner cuts lines as the serial framer does and
// discards over-long lines, reporting each one's length, without stopping:
// the codes after them are still read, in any chunking of the input.
func TestLineScanner_Read(t *testing.T) {
	long := strings.Repeat("A", 70<<10) // over bufio.Scanner's 64 KiB
	for _, tt := range []struct {
		name    string
		in      string
		maxLen  int
		codes   []string
		tooLong []int
	}{
		{name: "lines", in: "one\ntwo\r\nthree\rfour", codes: []string{"one", "two", "three", "four"}},
		{name: "blank lines and control bytes", in: "\n\n a\tb \n\x00\n", codes: []string{" ab "}},
		{name: "over 64 KiB then a pass", in: long + "\nAN1:pass\n", codes: []string{"AN1:pass"}, tooLong: []int{70 << 10}},
		{name: "over 64 KiB with CRLF", in: "x\r\n" + long + "\r\ny\r\n", codes: []string{"x", "y"}, tooLong: []int{70 << 10}},
		{name: "over-long last line without a line end", in: "x\n" + long, codes: []string{"x"}, tooLong: []int{70 << 10}},
		{name: "two over-long lines", in: long + "\n" + long + "b\nz\n", codes: []string{"z"}, tooLong: []int{70 << 10, 70<<10 + 1}},
		{name: "exactly the limit", in: "abcd\nabcde\nab\n", maxLen: 4, codes: []string{"abcd", "ab"}, tooLong: []int{5}},
	} {
		for _, chunking := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{
			{"whole", func(r io.Reader) io.Reader { return r }},
			{"bytewise", iotest.OneByteReader},
			{"halves", iotest.HalfReader},
		} {
			t.Run(tt.name+"/"+chunking.name, func(t *testing.T) {
				l := &lineScanner{r: chunking.wrap(strings.NewReader(tt.in)), maxLen: tt.maxLen}
				var codes []string
				var tooLong []int
				err := l.read(func(c string) bool { codes = append(codes, c); return true }, func(n int) { tooLong = append(tooLong, n) })
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(codes, tt.codes) {
					t.Errorf("codes %q, want %q", codes, tt.codes)
				}
				if !slices.Equal(tooLong, tt.tooLong) {
					t.Errorf("discarded lines of %v bytes, want %v", tooLong, tt.tooLong)
				}
			})
		}
	}
}

// Ensure that a read error ends the stdin scanner with an error saying so,
// after the codes read before it.
func TestLineScanner_ReadError(t *testing.T) {
	boom := errors.New("boom")
	l := &lineScanner{r: io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(boom))}
	var codes []string
	err := l.read(func(c string) bool { codes = append(codes, c); return true }, func(int) {})
	if !errors.Is(err, boom) || !slices.Equal(codes, []string{"a"}) {
		t.Errorf("codes %q, err %v", codes, err)
	}
}

// Ensure that `kiosk run --scanner stdin` given a line over 64 KiB logs one
// line with its length and none of its content, and checks in the valid
// pass on the next line.
func TestRun_StdinOverlongLine(t *testing.T) {
	e := newEnv(t)
	e.close()
	text, _ := e.issue()
	junk := strings.Repeat("QWERTY", 12<<10) // 73,728 bytes
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Data: e.dir, Scanners: []string{"stdin"}, Feedback: "none", StatusListen: "off"},
			Env{Stdin: strings.NewReader(junk + "\n" + text + "\n"), Clock: e.clock, Indicator: e.ind,
				Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.ind.mu.Lock()
		n := len(e.ind.events)
		e.ind.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("no scan answered:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ev := e.ind.events; len(ev) != 1 || ev[0].Result != feedback.Accepted {
		t.Errorf("feedback %+v, want one acceptance", ev)
	}
	out := logs.String()
	if strings.Count(out, `"msg":"scanner: code too long, discarded"`) != 1 || !strings.Contains(out, `"bytes":73728`) {
		t.Errorf("want one line reporting 73728 bytes discarded:\n%.2000s", out)
	}
	if strings.Contains(out, "QWERTY") {
		t.Error("the discarded line's content reached the log")
	}
	if !strings.Contains(out, `"result":"accepted"`) {
		t.Errorf("the pass after the long line was not accepted:\n%.2000s", out)
	}
	e.open()
	if st := e.verify(); st.Records != 1 {
		t.Errorf("%d records in the outbox, want 1", st.Records)
	}
}

var _ scanner.Scanner = (*lineScanner)(nil)
