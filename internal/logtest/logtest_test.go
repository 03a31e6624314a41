package logtest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// Ensure that String, Lines and Count see what was written, a last line
// not yet ended included by String and Count and left out by Lines.
func TestBuffer(t *testing.T) {
	for _, tt := range []struct {
		name    string
		writes  []string
		lines   []string
		substrs []string
		count   int
	}{
		{name: "empty", substrs: []string{"a"}, count: 0},
		{name: "lines", writes: []string{"level=INFO a=1\n", "level=ERROR a=2\n"}, lines: []string{"level=INFO a=1", "level=ERROR a=2"},
			substrs: []string{"a="}, count: 2},
		{name: "every substring", writes: []string{"x y\n", "x\n", "y\n"}, lines: []string{"x y", "x", "y"},
			substrs: []string{"x", "y"}, count: 1},
		{name: "unended last line", writes: []string{"one\ntw", "o"}, lines: []string{"one"}, substrs: []string{"two"}, count: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b Buffer
			want := ""
			for _, w := range tt.writes {
				fmt.Fprint(&b, w)
				want += w
			}
			if got := b.String(); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			if got := b.Lines(); !slices.Equal(got, tt.lines) {
				t.Errorf("Lines() = %q, want %q", got, tt.lines)
			}
			if got := b.Count(tt.substrs...); got != tt.count {
				t.Errorf("Count(%q) = %d, want %d", tt.substrs, got, tt.count)
			}
		})
	}
}

// Ensure that concurrent writers lose no line (run with -race).
func TestBuffer_ConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(&b, "writer=%d line=%d\n", w, i)
			}
		})
	}
	wg.Wait()
	if n := len(b.Lines()); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
	if n := b.Count("writer=3 "); n != 100 {
		t.Errorf("Count(writer=3) = %d, want 100", n)
	}
}
