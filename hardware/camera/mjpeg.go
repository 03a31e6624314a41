package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/anshim/anshim/hardware/scanner"
)

// Defaults of [MJPEGConfig].
const (
	DefaultGone       = 2 * time.Second
	DefaultBackoffMin = 200 * time.Millisecond
	DefaultBackoffMax = 5 * time.Second
)

// Clock is the time source of an [MJPEG] scanner: Now stamps scans and
// drives the "same code again" window, After times the reopen backoff.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the [Clock] of the running system.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// MJPEGConfig configures an [MJPEG] scanner.
type MJPEGConfig struct {
	// Open opens the stream: a pipe, a fifo, a file, or a command's
	// standard output (see [OpenFile] and [OpenCommand]). It is called again
	// after the stream ends or fails. Required.
	Open func() (io.ReadCloser, error)
	// Source names the camera in Scans and logs; empty means "camera".
	Source string
	// Exit marks this camera as an exit (check-out) scanner.
	Exit bool
	// Decoder decodes frames; nil means a zero Decoder.
	Decoder *Decoder
	// MaxFrameSize bounds one JPEG frame; larger frames are dropped. Zero
	// means DefaultMaxFrameSize.
	MaxFrameSize int
	// Gone is how long a code must stay out of view (no frame shows it)
	// before it is emitted again when it comes back; zero means DefaultGone.
	Gone time.Duration
	// Repeat, if positive, emits a code again every Repeat while it stays in
	// view. Zero means a code in view is emitted once.
	Repeat time.Duration
	// KeepAll decodes every frame instead of skipping to the newest one when
	// decoding falls behind; for recorded files and tests, where the stream
	// does not run in real time.
	KeepAll bool
	// BackoffMin and BackoffMax bound the exponential wait between reopens;
	// zero means DefaultBackoffMin and DefaultBackoffMax. The wait starts
	// again from BackoffMin after a stream that delivered a frame.
	BackoffMin, BackoffMax time.Duration
	// Clock is the time source; nil means SystemClock.
	Clock Clock
	// OnError, if not nil, is called with every error Run recovers from: a
	// failed open, a broken stream, a frame that is not a JPEG. It must not
	// block.
	OnError func(error)
}

func (c MJPEGConfig) validate() error {
	switch {
	case c.Open == nil:
		return errors.New("camera: no Open function")
	case c.MaxFrameSize < 0, c.Gone < 0, c.Repeat < 0, c.BackoffMin < 0, c.BackoffMax < 0:
		return errors.New("camera: negative frame size, interval or backoff")
	case c.BackoffMin > 0 && c.BackoffMax > 0 && c.BackoffMin > c.BackoffMax:
		return fmt.Errorf("camera: BackoffMin %v above BackoffMax %v", c.BackoffMin, c.BackoffMax)
	}
	return nil
}

func (c MJPEGConfig) sourceOrDefault() string {
	if c.Source == "" {
		return "camera"
	}
	return c.Source
}

func (c MJPEGConfig) clockOrDefault() Clock {
	if c.Clock == nil {
		return SystemClock{}
	}
	return c.Clock
}

func (c MJPEGConfig) goneOrDefault() time.Duration {
	if c.Gone == 0 {
		return DefaultGone
	}
	return c.Gone
}

func (c MJPEGConfig) decoderOrDefault() *Decoder {
	if c.Decoder == nil {
		return &Decoder{}
	}
	return c.Decoder
}

// MJPEG is a [scanner.Scanner] for a camera that writes an MJPEG stream, such
// as `rpicam-vid -t 0 --codec mjpeg --width 640 --height 480 -o -` or
// `ffmpeg -f v4l2 -i /dev/video0 -f mjpeg -`.
//
// # Frames
//
// A reader goroutine cuts the stream into frames with a [FrameSplitter];
// Run's goroutine decodes them with a [Decoder]. A camera delivers more
// frames per second than a small board decodes, so when the decoder falls
// behind, frames waiting for it are replaced by newer ones: it always works
// on the newest frame, and a code shown to the camera is read within about
// two decode times.
//
// # Emitting codes
//
// A code is emitted once when it comes into view. It is emitted again only
// after no frame showed it for Gone (the visitor took the phone away and
// showed it again), or every Repeat while it stays in view if Repeat is set.
// Deciding whether a repeated check-in counts is the kiosk's job.
//
// # Reopening
//
// When the stream ends or fails (the camera process restarted, the fifo's
// writer went away) Run closes it and calls Open again after an exponential
// backoff.
type MJPEG struct {
	cfg MJPEGConfig
}

var _ scanner.Scanner = (*MJPEG)(nil)

// NewMJPEG returns an MJPEG scanner for cfg, or an error if cfg is invalid.
// It does not open the stream: Run does.
func NewMJPEG(cfg MJPEGConfig) (*MJPEG, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &MJPEG{cfg: cfg}, nil
}

// Run implements [scanner.Scanner]. It returns ctx.Err() once ctx is done;
// open, read and decode errors are retried and passed to OnError. Run must
// not be called again before an earlier call has returned.
func (m *MJPEG) Run(ctx context.Context, emit func(scanner.Scan)) error {
	if err := m.cfg.validate(); err != nil {
		return err
	}
	clock := m.cfg.clockOrDefault()
	minB, maxB := m.cfg.BackoffMin, m.cfg.BackoffMax
	if minB == 0 {
		minB = DefaultBackoffMin
	}
	if maxB == 0 {
		maxB = max(DefaultBackoffMax, minB)
	}
	wait := minB
	seen := newDedup(m.cfg.goneOrDefault(), m.cfg.Repeat)
	for {
		frames, err := m.session(ctx, seen, emit)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			m.report(err)
		}
		if frames > 0 {
			wait = minB
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.After(wait):
		}
		wait = min(2*wait, maxB)
	}
}

func (m *MJPEG) report(err error) {
	if m.cfg.OnError != nil {
		m.cfg.OnError(fmt.Errorf("camera %s: %w", m.cfg.sourceOrDefault(), err))
	}
}

// session opens the stream once and decodes its frames until it ends, fails
// or ctx is done. It returns how many frames it decoded and why it ended
// (io.EOF becomes nil).
func (m *MJPEG) session(ctx context.Context, seen *dedup, emit func(scanner.Scan)) (int, error) {
	rc, err := openCtx(ctx, m.cfg.Open)
	if err != nil {
		return 0, fmt.Errorf("open: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Closing the stream is what interrupts a blocked Read of a pipe or fifo.
	var closeOnce sync.Once
	closeStream := func() { closeOnce.Do(func() { rc.Close() }) }
	stop := context.AfterFunc(ctx, closeStream)
	defer stop()
	defer closeStream()

	box := newMailbox(m.cfg.KeepAll)
	readErr := make(chan error, 1)
	go func() {
		readErr <- m.read(ctx, rc, box)
		box.close()
	}()

	dec := m.cfg.decoderOrDefault()
	clock := m.cfg.clockOrDefault()
	decoded := 0
	for {
		frame, ok := box.take(ctx)
		if !ok {
			break
		}
		img, err := jpeg.Decode(bytes.NewReader(frame))
		box.recycle(frame)
		if err != nil {
			m.report(fmt.Errorf("frame: %w", err))
			continue
		}
		decoded++
		text, err := dec.Decode(img)
		now := clock.Now()
		if err != nil {
			text = ""
		}
		if seen.observe(text, now) {
			emit(scanner.Scan{Text: text, Source: m.cfg.sourceOrDefault(), Exit: m.cfg.Exit, At: now})
		}
	}
	cancel() // stop the reader if we left because ctx is done
	err = <-readErr
	if errors.Is(err, io.EOF) || ctx.Err() != nil {
		err = nil
	}
	return decoded, err
}

// read splits the stream into frames and posts them to box until the
// stream ends (io.EOF) or fails.
func (m *MJPEG) read(ctx context.Context, r io.Reader, box *mailbox) error {
	sp := NewFrameSplitter(r, m.cfg.MaxFrameSize)
	sp.OnSkip = m.report
	for {
		frame, err := sp.Next()
		if err != nil {
			return err
		}
		if !box.put(ctx, frame) {
			return ctx.Err()
		}
	}
}

// openCtx calls open, but returns when ctx is done even if open blocks (as
// opening a fifo does until its writer appears); a stream opened after that
// is closed at once.
func openCtx(ctx context.Context, open func() (io.ReadCloser, error)) (io.ReadCloser, error) {
	type result struct {
		rc  io.ReadCloser
		err error
	}
	done := make(chan result, 1)
	go func() {
		rc, err := open()
		done <- result{rc, err}
	}()
	select {
	case r := <-done:
		return r.rc, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				r.rc.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// mailbox hands frames from the reader to the decoder. Unless it keeps
// all frames, it holds only the newest: put replaces a frame the decoder
// has not taken yet. Frame buffers are recycled to keep the garbage
// collector quiet at 30 frames per second.
type mailbox struct {
	keepAll bool
	mu      sync.Mutex
	frame   []byte   // the newest frame, nil if none waiting
	free    [][]byte // recycled buffers
	closed  bool
	ready   chan struct{} // a frame waits or the box closed (capacity 1)
	taken   chan struct{} // the decoder took a frame (capacity 1; keepAll)
	dropped int
}

func newMailbox(keepAll bool) *mailbox {
	return &mailbox{keepAll: keepAll, ready: make(chan struct{}, 1), taken: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// put posts a copy of frame. With keepAll it first waits until the
// previous frame was taken. It reports false if ctx ended first.
func (b *mailbox) put(ctx context.Context, frame []byte) bool {
	for {
		b.mu.Lock()
		if !b.keepAll || b.frame == nil {
			break
		}
		b.mu.Unlock()
		select {
		case <-b.taken:
		case <-ctx.Done():
			return false
		}
	}
	defer b.mu.Unlock()
	var buf []byte
	if b.frame != nil {
		buf = b.frame // drop the frame the decoder did not get to
		b.dropped++
	} else if n := len(b.free); n > 0 {
		buf, b.free = b.free[n-1], b.free[:n-1]
	}
	b.frame = append(buf[:0], frame...)
	signal(b.ready)
	return true
}

// take returns the newest frame, waiting for one. It reports false once
// the box is closed and empty, or ctx is done.
func (b *mailbox) take(ctx context.Context) ([]byte, bool) {
	for {
		b.mu.Lock()
		if f := b.frame; f != nil {
			b.frame = nil
			b.mu.Unlock()
			signal(b.taken)
			return f, true
		}
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-b.ready:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// recycle returns a taken frame's buffer.
func (b *mailbox) recycle(f []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.free) < 2 {
		b.free = append(b.free, f)
	}
}

// close tells take that no more frames come.
func (b *mailbox) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	signal(b.ready)
}

// dedup decides which decoded texts to emit: a code when it comes into
// view, again after it was out of view for gone, or every repeat while in
// view.
type dedup struct {
	gone, repeat time.Duration
	codes        map[string]*sighting
}

type sighting struct {
	lastSeen, lastEmit time.Time
}

func newDedup(gone, repeat time.Duration) *dedup {
	return &dedup{gone: gone, repeat: repeat, codes: make(map[string]*sighting)}
}

// observe records the result of one decoded frame at now (text empty: no
// code) and reports whether to emit text.
func (d *dedup) observe(text string, now time.Time) bool {
	for t, s := range d.codes { // forget codes long out of view
		if t != text && now.Sub(s.lastSeen) >= d.gone {
			delete(d.codes, t)
		}
	}
	if text == "" {
		return false
	}
	s, ok := d.codes[text]
	if !ok {
		d.codes[text] = &sighting{lastSeen: now, lastEmit: now}
		return true
	}
	emit := now.Sub(s.lastSeen) >= d.gone || (d.repeat > 0 && now.Sub(s.lastEmit) >= d.repeat)
	s.lastSeen = now
	if emit {
		s.lastEmit = now
	}
	return emit
}

// OpenFile returns an Open function for [MJPEGConfig] that opens path: a
// file or a fifo (such as one `rpicam-vid ... -o /run/anshim/camera.mjpeg`
// writes to). "-" means standard input, which is not closed.
func OpenFile(path string) func() (io.ReadCloser, error) {
	if path == "-" {
		return func() (io.ReadCloser, error) { return io.NopCloser(os.Stdin), nil }
	}
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

// OpenCommand returns an Open function for [MJPEGConfig] that starts the
// command name with args and reads its standard output, for example
// OpenCommand("rpicam-vid", "-t", "0", "-n", "--codec", "mjpeg",
// "--width", "640", "--height", "480", "-o", "-"). Closing the stream kills
// the command and waits for it; its standard error goes to the kiosk's.
func OpenCommand(name string, args ...string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		cmd := exec.Command(name, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &cmdStream{ReadCloser: out, cmd: cmd}, nil
	}
}

// cmdStream is a command's standard output; Close ends the command.
type cmdStream struct {
	io.ReadCloser
	cmd *exec.Cmd
}

func (c *cmdStream) Close() error {
	c.cmd.Process.Kill()
	c.ReadCloser.Close()
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil // killed by us, or exited on its own: the stream ended
	}
	return err
}
