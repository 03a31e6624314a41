//go:build !linux

package scanner

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// timevalSize is the size of the struct timeval at the start of a Linux
// input_event: two C longs, which are pointer-sized on every platform Linux
// and Go share. It only matters here for decoding recorded event streams.
const timevalSize = int(unsafe.Sizeof([2]uintptr{}))

// Run implements [Scanner]; evdev exists on Linux only, so it fails at once.
func (e *Evdev) Run(ctx context.Context, emit func(Scan)) error {
	return fmt.Errorf("evdev scanner %s: evdev on %s: %w", e.cfg.Path, runtime.GOOS, errors.ErrUnsupported)
}
