// Package logtest collects what a test's loggers write, for assertions
// while the goroutines under test still write.
package logtest

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer is an io.Writer safe for concurrent use. The zero value is an
// empty buffer.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Lines returns the complete lines written so far, without their
// newlines; a last line not yet ended is left out.
func (b *Buffer) Lines() []string {
	s := b.String()
	s = s[:strings.LastIndexByte(s, '\n')+1]
	var lines []string
	for line := range strings.Lines(s) {
		lines = append(lines, strings.TrimSuffix(line, "\n"))
	}
	return lines
}

// Count returns how many lines written so far hold every one of substrs
// (a last line not yet ended included).
func (b *Buffer) Count(substrs ...string) int {
	n := 0
	for line := range strings.Lines(b.String()) {
		ok := true
		for _, s := range substrs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			n++
		}
	}
	return n
}
