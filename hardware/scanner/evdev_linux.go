package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// timevalSize is the size of the struct timeval at the start of an
// input_event: 16 bytes on amd64 and arm64, 8 on 32-bit ARM.
const timevalSize = int(unsafe.Sizeof(unix.Timeval{}))

// eviocgrab is EVIOCGRAB, _IOW('E', 0x90, int), in the generic ioctl
// encoding used by arm, arm64, 386, amd64 and riscv64.
const eviocgrab = 0x40044590

// Run implements [Scanner]. It returns ctx.Err() once ctx is done; open,
// grab and read errors are retried and passed to OnError. Run must not be
// called again before an earlier call has returned.
func (e *Evdev) Run(ctx context.Context, emit func(Scan)) error {
	if err := e.cfg.validate(); err != nil {
		return err
	}
	b := backoffFor(e.cfg.BackoffMin, e.cfg.BackoffMax)
	return supervise(ctx, b, e.cfg.OnError, func(ctx context.Context, healthy func()) error {
		return e.session(ctx, emit, healthy)
	})
}

// session opens and grabs the device once and reads from it until ctx is
// done (nil) or the device fails (the error).
func (e *Evdev) session(ctx context.Context, emit func(Scan), healthy func()) error {
	path := e.cfg.Path
	dev, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("evdev scanner %s: resolve: %w", path, err)
	}
	// O_NONBLOCK: Go then reads through its poller, so read deadlines work
	// (and opening a FIFO in tests does not wait for a writer).
	f, err := os.OpenFile(dev, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("evdev scanner %s: open %s: %w", path, dev, err)
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return fmt.Errorf("evdev scanner %s: %w", path, err)
	}
	if !e.cfg.NoGrab {
		if err := grab(f); err != nil {
			return fmt.Errorf("evdev scanner %s: grab %s: %w", path, dev, err)
		}
	}
	if e.cfg.OnConnect != nil {
		e.cfg.OnConnect(dev)
	}

	now := e.cfg.nowOrDefault()
	source := e.cfg.sourceOrDefault()
	timeout := e.cfg.readTimeoutOrDefault()
	dec := KeyDecoder{MaxLen: e.cfg.MaxCodeLen}
	emitCode := func(code string) {
		emit(Scan{Text: code, Source: source, Exit: e.cfg.Exit, At: now()})
	}
	// evdev returns whole events only; 64 at a time is plenty for a scanner
	// typing a few hundred keys a second.
	buf := make([]byte, 64*InputEventSize)
	for ctx.Err() == nil {
		if err := f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return fmt.Errorf("evdev scanner %s: %s cannot time out reads: %w", path, dev, err)
		}
		n, err := f.Read(buf)
		if n > 0 {
			healthy()
			if derr := dec.Feed(buf[:n], emitCode); derr != nil && e.cfg.OnError != nil {
				e.cfg.OnError(fmt.Errorf("evdev scanner %s: %w", path, derr))
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if err := stillThere(path, opened); err != nil {
				return fmt.Errorf("evdev scanner %s: %w", path, err)
			}
			healthy()
		case errors.Is(err, unix.ENODEV), errors.Is(err, io.EOF):
			return fmt.Errorf("evdev scanner %s: device gone: %w", path, err)
		default:
			return fmt.Errorf("evdev scanner %s: read %s: %w", path, dev, err)
		}
	}
	return nil
}

// grab takes the device for this process alone (EVIOCGRAB). Closing the
// file releases it.
func grab(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var gerr error
	// Not f.Fd(): that would switch the file to blocking mode and disable
	// read deadlines.
	if err := rc.Control(func(fd uintptr) {
		gerr = unix.IoctlSetInt(int(fd), eviocgrab, 1)
	}); err != nil {
		return err
	}
	if errors.Is(gerr, unix.EBUSY) {
		return fmt.Errorf("another process has grabbed the device: %w", gerr)
	}
	return gerr
}
