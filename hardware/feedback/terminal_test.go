package feedback

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Ensure that each event gives one line with the Korean and English
// message, coloured only when asked.
func TestTerminal_Indicate(t *testing.T) {
	tests := []struct {
		ev          Event
		plain, ansi string
	}{
		{Event{Result: Accepted}, "● 체크인 완료 / Checked in\n", "\x1b[32m●\x1b[0m 체크인 완료 / Checked in\n"},
		{Event{Result: Accepted, Exit: true}, "● 체크아웃 완료 / Checked out\n", "\x1b[32m●\x1b[0m 체크아웃 완료 / Checked out\n"},
		{Event{Result: Duplicate}, "● 이미 체크인됨 / Already checked in\n", "\x1b[33m●\x1b[0m 이미 체크인됨 / Already checked in\n"},
		{Event{Result: Rejected, Reason: "expired"}, "● 만료된 출입증 / Pass expired (expired)\n", "\x1b[31m●\x1b[0m 만료된 출입증 / Pass expired (expired)\n"},
		{Event{Result: Rejected, Reason: "evil\x1b[2J"}, "● 유효하지 않은 QR / Invalid code (evil[2J)\n", "\x1b[31m●\x1b[0m 유효하지 않은 QR / Invalid code (evil[2J)\n"},
		{Event{Result: OutOfOrder, Reason: "disk-full"}, "● 고장 — 다른 방법으로 출입하세요 / Out of order — please use another way in (disk-full)\n", "\x1b[1;31m●\x1b[0m 고장 — 다른 방법으로 출입하세요 / Out of order — please use another way in (disk-full)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.ev.Result.String()+"/"+tt.ev.Reason, func(t *testing.T) {
			for _, c := range []struct {
				mode ColorMode
				want string
			}{{ColorNever, tt.plain}, {ColorAuto, tt.plain}, {ColorAlways, tt.ansi}} {
				var buf bytes.Buffer
				if err := NewTerminal(&buf, c.mode).Indicate(context.Background(), tt.ev); err != nil {
					t.Fatal(err)
				}
				if buf.String() != c.want {
					t.Errorf("mode %d: wrote %q, want %q", c.mode, buf.String(), c.want)
				}
			}
		})
	}
}

// Ensure that ColorAuto leaves colour off for a regular file, and on for a
// character device unless NO_COLOR is set.
func TestNewTerminal_Auto(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if NewTerminal(f, ColorAuto).color {
		t.Error("colour on for a regular file")
	}
	tty, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0) // a character device
	if err != nil {
		t.Skip(err)
	}
	defer tty.Close()
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !NewTerminal(tty, ColorAuto).color {
		t.Error("colour off for a character device")
	}
	t.Setenv("NO_COLOR", "1")
	if NewTerminal(tty, ColorAuto).color {
		t.Error("colour on despite NO_COLOR")
	}
	if !NewTerminal(tty, ColorAlways).color || NewTerminal(tty, ColorNever).color {
		t.Error("ColorAlways or ColorNever not obeyed")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// Ensure that write errors and cancelled contexts are reported.
func TestTerminal_Indicate_Errors(t *testing.T) {
	if err := NewTerminal(failWriter{}, ColorNever).Indicate(context.Background(), Event{Result: Accepted}); err == nil {
		t.Error("write error not reported")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	if err := NewTerminal(&buf, ColorNever).Indicate(ctx, Event{Result: Accepted}); !errors.Is(err, context.Canceled) || buf.Len() != 0 {
		t.Errorf("cancelled: err %v, wrote %q", err, buf.String())
	}
}
