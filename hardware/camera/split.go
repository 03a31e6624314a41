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
// marker (FF D9).
//
// A frame that breaks off (a new FF D8 where a marker or scan data belongs,
// an invalid segment length, or more than the size limit) is dropped and the
// splitter resynchronises on the next FF D8, so garbage and truncated frames
// cost nothing but themselves. Memory stays bounded by the size limit.
//
// A FrameSplitter is not safe for concurrent use.
type FrameSplitter struct {
	r   *bufio.Reader
	max int
	buf []byte
	// OnSkip, if not nil, is called for every frame dropped, with a reason.
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

// errResync reports a broken frame whose bytes from a new FF D8 on start
// the next frame.
var errResync = errors.New("mjpeg: frame broken off by a new start of image")

// Next returns the next complete JPEG frame, from FF D8 to FF D9 inclusive.
// The slice is valid until the next call. At the end of the stream Next
// returns io.EOF (a trailing incomplete frame is dropped); other read errors
// are returned as they are.
func (s *FrameSplitter) Next() ([]byte, error) {
	resynced := false
	for {
		if !resynced {
			if err := s.findSOI(); err != nil {
				return nil, err
			}
		}
		resynced = false
		s.buf = append(s.buf[:0], 0xFF, 0xD8)
		err := s.readFrame()
		switch {
		case err == nil:
			return s.buf, nil
		case errors.Is(err, errResync):
			s.skip(err)
			resynced = true
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, io.EOF
		case errors.Is(err, errBadFrame), errors.Is(err, ErrFrameTooLarge):
			s.skip(err)
		default:
			return nil, err
		}
	}
}

var errBadFrame = errors.New("mjpeg: malformed frame")

func (s *FrameSplitter) skip(err error) {
	if s.OnSkip != nil {
		s.OnSkip(err)
	}
}

// findSOI consumes bytes up to and including the next FF D8.
func (s *FrameSplitter) findSOI() error {
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return err
		}
		if b != 0xFF {
			// Skip quickly to the next FF in the buffer.
			if buffered := s.r.Buffered(); buffered > 0 {
				p, _ := s.r.Peek(buffered)
				i := bytes.IndexByte(p, 0xFF)
				if i < 0 {
					i = len(p)
				}
				s.r.Discard(i)
			}
			continue
		}
		for {
			n, err := s.r.ReadByte()
			if err != nil {
				return err
			}
			if n == 0xD8 {
				return nil
			}
			if n != 0xFF {
				break
			}
		}
	}
}

// readFrame reads one frame's segments after its SOI into s.buf, up to EOI.
func (s *FrameSplitter) readFrame() error {
	var code byte
	pending := false // code holds the marker that ended a scan
	for {
		if !pending {
			// A marker: FF, any number of FF fill bytes, a code.
			b, err := s.r.ReadByte()
			if err != nil {
				return err
			}
			if b != 0xFF {
				return fmt.Errorf("%w: byte %#02x where a marker belongs", errBadFrame, b)
			}
			for code = 0xFF; code == 0xFF; {
				if code, err = s.r.ReadByte(); err != nil {
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
			return fmt.Errorf("%w: FF 00 where a marker belongs", errBadFrame)
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
	var l [2]byte
	if _, err := io.ReadFull(s.r, l[:]); err != nil {
		return err
	}
	n := int(l[0])<<8 | int(l[1])
	if n < 2 {
		return fmt.Errorf("%w: segment %#02x of length %d", errBadFrame, code, n)
	}
	if err := s.add(0xFF, code, l[0], l[1]); err != nil {
		return err
	}
	n -= 2
	if len(s.buf)+n > s.max {
		return ErrFrameTooLarge
	}
	start := len(s.buf)
	s.buf = slices.Grow(s.buf, n)[:start+n]
	if _, err := io.ReadFull(s.r, s.buf[start:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return io.EOF
		}
		return err
	}
	return nil
}

// scan copies entropy-coded data up to the next marker that is not a
// stuffed FF 00 or a restart marker, and returns that marker's code (the FF
// and the code are consumed, not copied: the caller handles the marker).
func (s *FrameSplitter) scan() (byte, error) {
	for {
		p, err := s.r.Peek(1)
		if err != nil {
			return 0, err
		}
		// Copy everything up to the next FF at once.
		p, _ = s.r.Peek(max(s.r.Buffered(), 1))
		i := bytes.IndexByte(p, 0xFF)
		if i < 0 {
			i = len(p)
		}
		if err := s.add(p[:i]...); err != nil {
			return 0, err
		}
		s.r.Discard(i)
		if i == len(p) {
			continue
		}
		s.r.Discard(1) // the FF
		code := byte(0xFF)
		for code == 0xFF { // fill bytes
			if code, err = s.r.ReadByte(); err != nil {
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
