package feedback

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode"
)

// ColorMode says when a [Terminal] colours its output.
type ColorMode int

const (
	// ColorAuto colours output written to a terminal (a character device),
	// unless the NO_COLOR environment variable is set or TERM is "dumb".
	ColorAuto ColorMode = iota
	// ColorAlways always colours output.
	ColorAlways
	// ColorNever never colours output.
	ColorNever
)

// ANSI colours per result.
const (
	ansiReset  = "\x1b[0m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
	ansiBold   = "\x1b[1;31m"
)

// Terminal is an [Indicator] for development: it writes one line per event,
//
//	● 체크인 완료 / Checked in
//	● 만료된 출입증 / Pass expired (expired)
//
// with the dot green (Accepted), yellow (Duplicate), red (Rejected) or bold
// red (OutOfOrder) when colour is on. A Terminal is safe for concurrent use;
// lines are never interleaved.
type Terminal struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

var _ Indicator = (*Terminal)(nil)

// NewTerminal returns a Terminal writing to w, coloured according to mode.
func NewTerminal(w io.Writer, mode ColorMode) *Terminal {
	color := mode == ColorAlways
	if mode == ColorAuto {
		color = isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	}
	return &Terminal{w: w, color: color}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Indicate implements [Indicator].
func (t *Terminal) Indicate(ctx context.Context, ev Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ko, en := Message(ev)
	dot := "●"
	if t.color {
		switch ev.Result {
		case Accepted:
			dot = ansiGreen + dot + ansiReset
		case Duplicate:
			dot = ansiYellow + dot + ansiReset
		case Rejected:
			dot = ansiRed + dot + ansiReset
		case OutOfOrder:
			dot = ansiBold + dot + ansiReset
		}
	}
	line := dot + " " + ko + " / " + en
	if ev.Reason != "" {
		// The reason is for the developer; keep control bytes out of the
		// terminal.
		line += " (" + strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, ev.Reason) + ")"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := io.WriteString(t.w, line+"\n"); err != nil {
		return fmt.Errorf("terminal feedback: %w", err)
	}
	return nil
}
