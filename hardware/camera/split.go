package camera

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// DefaultMaxFrameSize bounds one JPEG frame of an MJPEG stream. A 640×480
// camera frame is 30–100 KiB; even 1080p frames stay far below this.
const DefaultMaxFrameSize = 4 << 20

// ErrFrameTooLarge is passed to a FrameSplitter's OnSkip when a frame
// grows past the size limit; the splitter then drops it and looks for the
// next frame.
var ErrFrameTooLarge = errors.New("mjpeg: frame too large")

// ErrBadFrame is passed to a FrameSplitter's OnSkip, wrapped with the
// reason, when a frame breaks off or is malformed.
var ErrBadFrame = errors.New("mjpeg: broken frame")

// FrameSplitter cuts an MJPEG byte stream into JPEG frames.
//
// An MJPEG stream, as written by `rpicam-vid --codec mjpeg -o -` or
// `ffmpeg -f mjpeg`, is JPEG files back to back; an HTTP camera sends them
// as multipart parts with "--boundary" and header lines between them.
// FrameSplitter handles both the same way: it skips everything up to a
// start-of-image marker (FF D8), then follows the JPEG marker segments
// (skipping each by its length, so a thumbnail inside an EXIF segment does
// not end the frame early) and the entropy-coded data (where FF 00 is a
// stuffed byte and FF D0–D7 are restart markers) up to the end-of-image
// marker (FF D9). Fill bytes (FF FF ...) before a marker are dropped.
//
// A frame that breaks off (cut short by a restarting camera, so a new
// FF D8 appears where a marker or scan data belongs, or a segment length
// runs into the next frame) or that grows past the size limit is dropped,
// and the search for the next frame starts again right after the dropped
// frame's FF D8: a truncated frame costs only itself. Memory stays bounded
// by the size limit.
//
// A FrameSplitter is not safe for concurrent use.
type FrameSplitter struct {
	r   *bufio.Reader
	pb  []byte // bytes given back after a broken frame, read before r
	max int
	buf []byte
	// OnSkip, if not nil, is called for every frame dropped, with an error
	// wrapping ErrBadFrame or ErrFrameTooLarge.
	OnSkip func(error)
}

// NewFrameSplitter returns a splitter reading r, dropping frames larger
// than maxFrame bytes (0 means DefaultMaxFrameSize).
func NewFrameSplitter(r io.Reader, maxFrame int) *FrameSplitter {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrameSize
	}
	return &FrameSplitter{r: bufio.NewReaderSize(r, 64<<10), max: maxFrame}
}

// maxRescan bounds how much of a broken frame is searched again for the
// next frame's start; a longer broken frame is skipped whole.
const maxRescan = 1 << 20

// maxSmallSegment bounds the length of the segments other than APPn and
// COM: tables and headers, at most about 1 KiB in a real JPEG. A longer one
// means the frame is garbage, and reading it would swallow the next frame.
const maxSmallSegment = 4096

// Next returns the next complete JPEG frame, from FF D8 to FF D9 inclusive.
// The slice is valid until the next call. At the end of the stream Next
// returns io.EOF (a trailing incomplete frame is dropped); other read errors
// are returned as they are.
func (s *FrameSplitter) Next() ([]byte, error) {
	for {
		if err := s.findSOI(); err != nil {
			return nil, err
		}
		s.buf = append(s.buf[:0], 0xFF, 0xD8)
		err := s.readFrame()
		switch {
		case err == nil:
			return s.buf, nil
		case errors.Is(err, ErrBadFrame):
			s.skip(err)
			// Search the dropped frame again after its SOI, including the
			// FF D8 that cut it short.
			rest := s.buf[2:]
			if err == errResync {
				rest = append(rest, 0xFF, 0xD8)
			}
			if len(rest) > maxRescan {
				rest = rest[len(rest)-2:]
			}
			s.pb = append(slices.Clone(rest), s.pb...)
		case errors.Is(err, ErrFrameTooLarge):
			s.skip(err)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, io.EOF
		default:
			return nil, err
		}
	}
}

func (s *FrameSplitter) skip(err error) {
	if s.OnSkip != nil {
		s.OnSkip(err)
	}
}

// readByte reads one byte, from the given-back bytes first.
func (s *FrameSplitter) readByte() (byte, error) {
	if len(s.pb) > 0 {
		b := s.pb[0]
		s.pb = s.pb[1:]
		return b, nil
	}
	return s.r.ReadByte()
}

// chunk returns some bytes (at least one) without consuming them.
func (s *FrameSplitter) chunk() ([]byte, error) {
	if len(s.pb) > 0 {
		return s.pb, nil
	}
	if _, err := s.r.Peek(1); err != nil {
		return nil, err
	}
	return s.r.Peek(s.r.Buffered())
}

// discard consumes n bytes of the last chunk.
func (s *FrameSplitter) discard(n int) {
	if len(s.pb) > 0 {
		s.pb = s.pb[n:]
		return
	}
	s.r.Discard(n)
}

// readFull appends n bytes to the frame.
func (s *FrameSplitter) readFull(n int) error {
	for n > 0 {
		c, err := s.chunk()
		if err != nil {
			return err
		}
		c = c[:min(n, len(c))]
		s.buf = append(s.buf, c...)
		s.discard(len(c))
		n -= len(c)
	}
	return nil
}

// findSOI consumes bytes up to and including the next FF D8.
func (s *FrameSplitter) findSOI() error {
	for {
		c, err := s.chunk()
		if err != nil {
			return err
		}
		i := bytes.IndexByte(c, 0xFF)
		if i < 0 {
			s.discard(len(c))
			continue
		}
		s.discard(i + 1)
		for {
			b, err := s.readByte()
			if err != nil {
				return err
			}
			if b == 0xD8 {
				return nil
			}
			if b != 0xFF {
				break
			}
		}
	}
}

// errResync reports a frame cut short by the next frame's SOI.
var errResync = fmt.Errorf("%w: cut short by a new start of image", ErrBadFrame)

// readFrame reads one frame's segments after its SOI into s.buf, up to EOI.
func (s *FrameSplitter) readFrame() error {
	var code byte
	pending := false // code holds the marker that ended a scan
	for {
		if !pending {
			// A marker: FF, any number of FF fill bytes, a code.
			b, err := s.readByte()
			if err != nil {
				return err
			}
			if b != 0xFF {
				return fmt.Errorf("%w: byte %#02x where a marker belongs", ErrBadFrame, b)
			}
			for code = 0xFF; code == 0xFF; {
				if code, err = s.readByte(); err != nil {
					return err
				}
			}
		}
		pending = false
		switch {
		case code == 0xD8:
			return errResync
		case code == 0xD9:
			return s.add(0xFF, 0xD9)
		case code == 0x01 || (code >= 0xD0 && code <= 0xD7):
			// TEM and stray RSTn: no length, no payload.
			if err := s.add(0xFF, code); err != nil {
				return err
			}
			continue
		case code == 0x00:
			return fmt.Errorf("%w: FF 00 where a marker belongs", ErrBadFrame)
		}
		if err := s.segment(code); err != nil {
			return err
		}
		if code == 0xDA { // SOS: entropy-coded data follows
			var err error
			if code, err = s.scan(); err != nil {
				return err
			}
			pending = true
		}
	}
}

// segment copies a marker segment with a 2-byte length.
func (s *FrameSplitter) segment(code byte) error {
	hi, err := s.readByte()
	if err != nil {
		return err
	}
	lo, err := s.readByte()
	if err != nil {
		return err
	}
	if err := s.add(0xFF, code, hi, lo); err != nil {
		return err
	}
	n := int(hi)<<8 | int(lo)
	appOrCOM := code >= 0xE0 && code <= 0xEF || code == 0xFE
	if n < 2 || (!appOrCOM && n > maxSmallSegment) {
		return fmt.Errorf("%w: segment %#02x of length %d", ErrBadFrame, code, n)
	}
	n -= 2
	if len(s.buf)+n > s.max {
		return ErrFrameTooLarge
	}
	start := len(s.buf)
	if err := s.readFull(n); err != nil {
		return err
	}
	if !appOrCOM && bytes.Contains(s.buf[start:], []byte{0xFF, 0xD8}) {
		// Tables never hold FF D8; the frame was cut and this is the next.
		return fmt.Errorf("%w: segment %#02x runs into a new start of image", ErrBadFrame, code)
	}
	return nil
}

// scan copies entropy-coded data up to the next marker that is not a
// stuffed FF 00 or a restart marker, and returns that marker's code (the FF
// and the code are consumed, not copied: the caller handles the marker).
func (s *FrameSplitter) scan() (byte, error) {
	for {
		c, err := s.chunk()
		if err != nil {
			return 0, err
		}
		i := bytes.IndexByte(c, 0xFF)
		if i < 0 {
			i = len(c)
		}
		if err := s.add(c[:i]...); err != nil {
			return 0, err
		}
		s.discard(i)
		if i == len(c) {
			continue
		}
		s.discard(1) // the FF
		code := byte(0xFF)
		for code == 0xFF { // fill bytes
			if code, err = s.readByte(); err != nil {
				return 0, err
			}
		}
		if code == 0x00 || (code >= 0xD0 && code <= 0xD7) {
			if err := s.add(0xFF, code); err != nil {
				return 0, err
			}
			continue
		}
		return code, nil
	}
}

// add appends bytes to the frame, enforcing the size limit.
func (s *FrameSplitter) add(b ...byte) error {
	if len(s.buf)+len(b) > s.max {
		return ErrFrameTooLarge
	}
	s.buf = append(s.buf, b...)
	return nil
}
