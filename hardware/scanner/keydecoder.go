package scanner

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// InputEventSize is the size in bytes of a Linux struct input_event on this
// platform: a struct timeval (16 bytes on 64-bit platforms, 8 on 32-bit ARM)
// followed by type (uint16), code (uint16) and value (int32), in native byte
// order.
const InputEventSize = timevalSize + 8

// ErrEventsDropped reports that the kernel's event buffer overflowed
// (SYN_DROPPED): key presses were lost, so the code being typed was
// discarded.
var ErrEventsDropped = errors.New("input events dropped by the kernel")

// KeyDecoderStats counts what a [KeyDecoder] did with its input. The
// counters only grow.
type KeyDecoderStats struct {
	// Framer counts the codes, as typed.
	Framer FramerStats
	// Events is the number of whole input events decoded.
	Events uint64
	// Ignored is the number of key presses that type nothing the decoder
	// knows (function keys, Tab, keys pressed with Ctrl, Alt or Meta).
	Ignored uint64
	// Dropped is the number of SYN_DROPPED events: kernel buffer overruns.
	Dropped uint64
}

// modifier bits for keys held down.
const (
	modLeftShift = 1 << iota
	modRightShift
	modLeftCtrl
	modRightCtrl
	modLeftAlt
	modRightAlt
	modLeftMeta
	modRightMeta

	modShift   = modLeftShift | modRightShift
	modCommand = modLeftCtrl | modRightCtrl | modLeftAlt | modRightAlt | modLeftMeta | modRightMeta
)

var modifierKeys = map[uint16]uint8{
	keyLeftShift:  modLeftShift,
	keyRightShift: modRightShift,
	keyLeftCtrl:   modLeftCtrl,
	keyRightCtrl:  modRightCtrl,
	keyLeftAlt:    modLeftAlt,
	keyRightAlt:   modRightAlt,
	keyLeftMeta:   modLeftMeta,
	keyRightMeta:  modRightMeta,
}

// KeyDecoder turns the raw input events of a keyboard-wedge barcode scanner,
// as read from a Linux evdev device, into codes.
//
// It decodes key presses with a US layout, tracking left and right Shift (and
// Caps Lock) so that upper-case letters and the symbols of the QR
// alphanumeric set ($ % * + - . / : and space) come out right. Enter or
// keypad Enter ends a code. Key releases, auto-repeats, non-key events and
// keys pressed with Ctrl, Alt or Meta held type nothing. Codes are cut and
// bounded by a [Framer]: they are never empty, hold printable ASCII only and
// are at most MaxLen bytes long.
//
// Input may be fed in chunks of any size; a partial event is kept for the
// next call. The zero value is ready to use. A KeyDecoder is not safe for
// concurrent use.
type KeyDecoder struct {
	// MaxLen is the maximum code length in bytes; zero means
	// DefaultMaxCodeLen.
	MaxLen int

	fr       Framer
	partial  [InputEventSize]byte
	npartial int
	mods     uint8
	caps     bool
	dropping bool // after SYN_DROPPED, until the next SYN_REPORT
	stats    KeyDecoderStats
}

// Feed consumes raw input_event bytes and calls emit for every code
// completed by them, in order.
//
// Feed returns an error wrapping [ErrCodeTooLong] or [ErrEventsDropped] when
// it discarded a code; decoding goes on, and later codes are still emitted.
func (d *KeyDecoder) Feed(p []byte, emit func(string)) error {
	var firstErr error
	note := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if d.npartial > 0 {
		n := copy(d.partial[d.npartial:], p)
		d.npartial += n
		p = p[n:]
		if d.npartial < InputEventSize {
			return nil
		}
		note(d.event(d.partial[:], emit))
		d.npartial = 0
	}
	for len(p) >= InputEventSize {
		note(d.event(p[:InputEventSize], emit))
		p = p[InputEventSize:]
	}
	d.npartial = copy(d.partial[:], p)
	return firstErr
}

// event decodes one whole input_event.
func (d *KeyDecoder) event(ev []byte, emit func(string)) error {
	d.stats.Events++
	typ := binary.NativeEndian.Uint16(ev[timevalSize:])
	code := binary.NativeEndian.Uint16(ev[timevalSize+2:])
	value := int32(binary.NativeEndian.Uint32(ev[timevalSize+4:]))

	switch {
	case typ == evSyn && code == synDropped:
		// The kernel lost events: the code being typed is corrupt, and
		// modifier releases may be lost too. Drop everything up to and
		// including the next SYN_REPORT (see the kernel's
		// Documentation/input/event-codes.rst).
		d.stats.Dropped++
		d.fr.Reset()
		d.mods = 0
		d.dropping = true
		return fmt.Errorf("key decoder: %w", ErrEventsDropped)
	case typ == evSyn && code == synReport:
		d.dropping = false
		return nil
	case d.dropping || typ != evKey:
		return nil
	}

	if bit, ok := modifierKeys[code]; ok {
		switch value {
		case keyPressed, keyRepeated:
			d.mods |= bit
		case keyReleased:
			d.mods &^= bit
		}
		return nil
	}
	if value != keyPressed {
		return nil // releases and auto-repeat
	}
	switch code {
	case keyCapsLock:
		d.caps = !d.caps
		return nil
	case keyEnter, keyKPEnter:
		return d.feed(lf, emit)
	}
	c, ok := keyChar[code]
	if !ok || d.mods&modCommand != 0 {
		d.stats.Ignored++
		return nil
	}
	shifted := d.mods&modShift != 0
	if d.caps && isLetterKey(code) {
		shifted = !shifted
	}
	if shifted {
		return d.feed(c[1], emit)
	}
	return d.feed(c[0], emit)
}

func (d *KeyDecoder) feed(b byte, emit func(string)) error {
	d.fr.MaxLen = d.MaxLen
	if err := d.fr.Feed([]byte{b}, emit); err != nil {
		return fmt.Errorf("key decoder: %w", err)
	}
	return nil
}

// Reset forgets any partial event, partial code and held modifiers, as after
// reopening the device. Caps Lock is released too. Counters are kept.
func (d *KeyDecoder) Reset() {
	d.fr.MaxLen = d.MaxLen
	d.fr.Reset()
	d.npartial = 0
	d.mods = 0
	d.caps = false
	d.dropping = false
}

// Stats returns the decoder's counters.
func (d *KeyDecoder) Stats() KeyDecoderStats {
	s := d.stats
	s.Framer = d.fr.Stats()
	return s
}
