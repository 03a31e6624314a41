package scanner

import (
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// appendEvent appends one input_event in this platform's layout, with a
// recognisable timestamp so a decoder that reads the wrong offsets fails.
func appendEvent(b []byte, typ, code uint16, value int32) []byte {
	ev := make([]byte, InputEventSize)
	for i := range timevalSize {
		ev[i] = 0xA5
	}
	binary.NativeEndian.PutUint16(ev[timevalSize:], typ)
	binary.NativeEndian.PutUint16(ev[timevalSize+2:], code)
	binary.NativeEndian.PutUint32(ev[timevalSize+4:], uint32(value))
	return append(b, ev...)
}

// keyFor finds the key code and shift state that type c on a US layout,
// preferring the main block over the keypad, as scanners do.
func keyFor(t testing.TB, c byte) (code uint16, shift bool) {
	t.Helper()
	var codes []uint16
	for k := range keyChar {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	for _, k := range codes {
		if k == 55 || k >= 71 { // keypad
			continue
		}
		if ch := keyChar[k]; ch[0] == c {
			return k, false
		} else if ch[1] == c {
			return k, true
		}
	}
	t.Fatalf("no key types %q", c)
	return 0, false
}

// typeString returns the events a keyboard-wedge scanner sends to type s
// and press Enter: shift pressed and released around each shifted key, each
// key press and release followed by SYN_REPORT, and MSC_SCAN noise.
func typeString(t testing.TB, s string, shiftKey uint16) []byte {
	t.Helper()
	var b []byte
	key := func(code uint16, v int32) {
		b = appendEvent(b, 0x04, 0x04, 0x70000+int32(code)) // EV_MSC MSC_SCAN
		b = appendEvent(b, evKey, code, v)
		b = appendEvent(b, evSyn, synReport, 0)
	}
	for i := range len(s) {
		code, shift := keyFor(t, s[i])
		if shift {
			key(shiftKey, keyPressed)
		}
		key(code, keyPressed)
		key(code, keyReleased)
		if shift {
			key(shiftKey, keyReleased)
		}
	}
	key(keyEnter, keyPressed)
	key(keyEnter, keyReleased)
	return b
}

// Ensure that the input_event size matches the kernel's layout for this
// word size.
func TestInputEventSize(t *testing.T) {
	want := 24
	if strconv.IntSize == 32 {
		want = 16
	}
	if InputEventSize != want {
		t.Errorf("InputEventSize = %d, want %d on a %d-bit platform", InputEventSize, want, strconv.IntSize)
	}
}

// Ensure that typed strings, with either Shift key, decode to themselves,
// including every character of the QR alphanumeric set.
func TestKeyDecoder_Feed_Typed(t *testing.T) {
	tests := []string{
		"HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IUKRG*I.I7",
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:",
		"lower case and UPPER case",
		"!@#^&()_={}[]|\\;'\"<>,?`~",
	}
	for _, shiftKey := range []uint16{keyLeftShift, keyRightShift} {
		for _, s := range tests {
			t.Run(strconv.Itoa(int(shiftKey))+"/"+s, func(t *testing.T) {
				var d KeyDecoder
				var got []string
				if err := d.Feed(typeString(t, s, shiftKey), func(c string) { got = append(got, c) }); err != nil {
					t.Fatal(err)
				}
				if want := []string{s}; !slices.Equal(got, want) {
					t.Errorf("codes = %q, want %q", got, want)
				}
			})
		}
	}
}

// ev is one event in a table test.
type ev struct {
	typ, code uint16
	value     int32
}

func press(code uint16) []ev   { return []ev{{evKey, code, keyPressed}} }
func release(code uint16) []ev { return []ev{{evKey, code, keyReleased}} }
func tap(code uint16) []ev     { return append(press(code), release(code)...) }
func seq(parts ...[]ev) []ev   { return slices.Concat(parts...) }

func encode(evs []ev) []byte {
	var b []byte
	for _, e := range evs {
		b = appendEvent(b, e.typ, e.code, e.value)
	}
	return b
}

// Ensure that modifiers, Caps Lock, repeats, keypad keys and kernel buffer
// overruns are decoded as a scanner's host would.
func TestKeyDecoder_Feed(t *testing.T) {
	const (
		kA, kB, kSemicolon, k4 = 30, 48, 39, 5
		kKP1, kKPAsterisk, kF1 = 79, 55, 59
	)
	tests := []struct {
		name    string
		evs     []ev
		maxLen  int
		want    []string
		wantErr error
		stats   KeyDecoderStats // Events and Framer are not compared
	}{
		{name: "lower", evs: seq(tap(kA), tap(kB), tap(keyEnter)), want: []string{"ab"}},
		{name: "left shift", evs: seq(press(keyLeftShift), tap(kA), release(keyLeftShift), tap(kB), tap(keyEnter)), want: []string{"Ab"}},
		{name: "right shift symbols", evs: seq(press(keyRightShift), tap(kSemicolon), tap(k4), release(keyRightShift), tap(keyEnter)), want: []string{":$"}},
		{name: "both shifts, one released", evs: seq(press(keyLeftShift), press(keyRightShift), release(keyLeftShift), tap(kA), release(keyRightShift), tap(kA), tap(keyEnter)), want: []string{"Aa"}},
		{name: "shift repeat keeps shift", evs: seq(press(keyLeftShift), []ev{{evKey, keyLeftShift, keyRepeated}}, tap(kA), release(keyLeftShift), tap(keyEnter)), want: []string{"A"}},
		{name: "caps lock", evs: seq(tap(keyCapsLock), tap(kA), tap(k4), press(keyLeftShift), tap(kA), release(keyLeftShift), tap(keyCapsLock), tap(kA), tap(keyEnter)), want: []string{"A4aa"}},
		{name: "keypad", evs: seq(tap(kKP1), tap(kKPAsterisk), tap(keyKPEnter)), want: []string{"1*"}},
		{name: "autorepeat ignored", evs: seq(press(kA), []ev{{evKey, kA, keyRepeated}, {evKey, kA, keyRepeated}}, release(kA), tap(keyEnter)), want: []string{"a"}},
		{name: "ctrl suppresses", evs: seq(press(keyLeftCtrl), tap(kA), release(keyLeftCtrl), tap(kB), tap(keyEnter)), want: []string{"b"}, stats: KeyDecoderStats{Ignored: 1}},
		{name: "alt suppresses", evs: seq(press(keyRightAlt), tap(kA), release(keyRightAlt), tap(keyEnter)), want: nil, stats: KeyDecoderStats{Ignored: 1}},
		{name: "unmapped key", evs: seq(tap(kF1), tap(kA), tap(keyEnter)), want: []string{"a"}, stats: KeyDecoderStats{Ignored: 1}},
		{name: "empty enter", evs: seq(tap(keyEnter), tap(keyEnter)), want: nil},
		{name: "no enter yet", evs: seq(tap(kA)), want: nil},
		{name: "non-key events", evs: []ev{{0x02, 0, 5}, {0x04, 4, 0x70004}, {0x11, 1, 1}, {evKey, keyEnter, keyPressed}}, want: nil},
		{
			name: "SYN_DROPPED discards code and following events up to SYN_REPORT",
			evs: seq(press(keyLeftShift), tap(kA), []ev{{evSyn, synDropped, 0}}, tap(kB), []ev{{evSyn, synReport, 0}},
				tap(kA), tap(keyEnter)),
			want: []string{"a"}, wantErr: ErrEventsDropped, stats: KeyDecoderStats{Dropped: 1},
		},
		{name: "too long", maxLen: 2, evs: seq(tap(kA), tap(kA), tap(kA), tap(keyEnter), tap(kB), tap(keyEnter)), want: []string{"b"}, wantErr: ErrCodeTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := KeyDecoder{MaxLen: tt.maxLen}
			var got []string
			err := d.Feed(encode(tt.evs), func(c string) { got = append(got, c) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("codes = %q, want %q", got, tt.want)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			st := d.Stats()
			if st.Events != uint64(len(tt.evs)) {
				t.Errorf("Events = %d, want %d", st.Events, len(tt.evs))
			}
			if st.Ignored != tt.stats.Ignored || st.Dropped != tt.stats.Dropped {
				t.Errorf("Stats() = %+v, want Ignored %d Dropped %d", st, tt.stats.Ignored, tt.stats.Dropped)
			}
		})
	}
}

// Ensure that events split at every possible byte boundary decode the same.
func TestKeyDecoder_Feed_Split(t *testing.T) {
	in := typeString(t, "HC1:A$B", keyLeftShift)
	for cut := range len(in) {
		var d KeyDecoder
		var got []string
		emit := func(c string) { got = append(got, c) }
		_ = d.Feed(in[:cut], emit)
		_ = d.Feed(in[cut:], emit)
		if want := []string{"HC1:A$B"}; !slices.Equal(got, want) {
			t.Fatalf("cut at %d: codes = %q, want %q", cut, got, want)
		}
	}
}

// Ensure that Reset forgets a held Shift and a partial code, as after an
// unplug in the middle of a scan.
func TestKeyDecoder_Reset(t *testing.T) {
	var d KeyDecoder
	var got []string
	emit := func(c string) { got = append(got, c) }
	_ = d.Feed(encode(seq(press(keyLeftShift), tap(30))), emit)
	_ = d.Feed(encode(tap(30))[:5], emit) // partial event
	d.Reset()
	_ = d.Feed(encode(seq(tap(30), tap(keyEnter))), emit)
	if want := []string{"a"}; !slices.Equal(got, want) {
		t.Errorf("codes = %q, want %q", got, want)
	}
}

// FuzzKeyDecoder checks on arbitrary event bytes that codes are non-empty,
// bounded, printable ASCII, and independent of how the input is chunked.
func FuzzKeyDecoder(f *testing.F) {
	f.Add(typeString(f, "HC1:AB$%*+-./ Z", keyLeftShift), uint8(5))
	f.Add(typeString(f, "abc", keyRightShift), uint8(24))
	f.Add(encode(seq(press(keyLeftShift), []ev{{evSyn, synDropped, 0}}, tap(30), []ev{{evSyn, synReport, 0}}, tap(30), tap(keyEnter))), uint8(1))
	f.Add([]byte(strings.Repeat("\x01", 100)), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		const limit = 32
		whole := KeyDecoder{MaxLen: limit}
		var got []string
		_ = whole.Feed(in, func(c string) { got = append(got, c) })

		chunked := KeyDecoder{MaxLen: limit}
		var got2 []string
		step := int(chunk)%(2*InputEventSize) + 1
		for p := in; len(p) > 0; {
			n := min(step, len(p))
			_ = chunked.Feed(p[:n], func(c string) { got2 = append(got2, c) })
			p = p[n:]
		}
		if !slices.Equal(got, got2) {
			t.Fatalf("chunked feed gave %q, whole feed %q", got2, got)
		}
		if whole.Stats() != chunked.Stats() {
			t.Fatalf("chunked stats %+v, whole %+v", chunked.Stats(), whole.Stats())
		}
		if want := uint64(len(in) / InputEventSize); whole.Stats().Events != want {
			t.Fatalf("Events = %d, want %d", whole.Stats().Events, want)
		}
		for _, c := range got {
			if len(c) == 0 || len(c) > limit {
				t.Fatalf("code %q has length %d, want 1..%d", c, len(c), limit)
			}
			for i := range len(c) {
				if c[i] < 0x20 || c[i] > 0x7e {
					t.Fatalf("code %q has non-printable byte %#x", c, c[i])
				}
			}
		}
	})
}
