package scanner

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// feedAll feeds in to a fresh Framer in one call and returns the codes and
// the Framer.
func feedAll(t testing.TB, maxLen int, in []byte) ([]string, *Framer, error) {
	t.Helper()
	f := &Framer{MaxLen: maxLen}
	var codes []string
	err := f.Feed(in, func(s string) { codes = append(codes, s) })
	return codes, f, err
}

// Ensure that each terminator and framing style gives exactly the codes in
// the stream, and nothing for empty frames.
func TestFramer_Feed(t *testing.T) {
	long := strings.Repeat("A", 20)
	tests := []struct {
		name    string
		maxLen  int
		in      string
		want    []string
		pending int
		stats   FramerStats
		tooLong bool
	}{
		{name: "CR", in: "HC1:ABC\r", want: []string{"HC1:ABC"}, stats: FramerStats{Codes: 1}},
		{name: "LF", in: "HC1:ABC\n", want: []string{"HC1:ABC"}, stats: FramerStats{Codes: 1}},
		{name: "CRLF gives one code", in: "HC1:ABC\r\nXYZ\r\n", want: []string{"HC1:ABC", "XYZ"}, stats: FramerStats{Codes: 2}},
		{name: "LFCR", in: "A\n\rB\n\r", want: []string{"A", "B"}, stats: FramerStats{Codes: 2}},
		{name: "STX ETX", in: "\x02HC1:ABC\x03", want: []string{"HC1:ABC"}, stats: FramerStats{Codes: 1}},
		{name: "STX ETX CRLF", in: "\x02A B\x03\r\n\x02C\x03\r\n", want: []string{"A B", "C"}, stats: FramerStats{Codes: 2}},
		{name: "STX ETX LF", in: "\x02A\x03\n", want: []string{"A"}, stats: FramerStats{Codes: 1}},
		{name: "STX with CR before ETX", in: "\x02A\r\x03", want: []string{"A"}, stats: FramerStats{Codes: 1}},
		{name: "ETX alone terminates", in: "A\x03B\x03", want: []string{"A", "B"}, stats: FramerStats{Codes: 2}},
		{name: "empty frames ignored", in: "\r\n\r\n\x02\x03\n\n\x03", want: nil},
		{name: "unterminated kept", in: "ABC", want: nil, pending: 3},
		{name: "unterminated after code", in: "A\rBC", want: []string{"A"}, pending: 2, stats: FramerStats{Codes: 1}},
		{name: "STX discards noise before it", in: "noise\x02A\x03", want: []string{"A"}, stats: FramerStats{Codes: 1, Partial: 1}},
		{name: "STX restarts a frame", in: "\x02AB\x02CD\x03", want: []string{"CD"}, stats: FramerStats{Codes: 1, Partial: 1}},
		{name: "control bytes dropped", in: "A\x00B\x1dC\tD\x7f\x1b\r", want: []string{"ABCD"}, stats: FramerStats{Codes: 1, Control: 5}},
		{name: "only control bytes", in: "\x00\x01\r", want: nil, stats: FramerStats{Control: 2}},
		{name: "UTF-8 kept", in: "안심\r", want: []string{"안심"}, stats: FramerStats{Codes: 1}},
		{name: "QR alphanumeric set", in: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:\r", want: []string{"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"}, stats: FramerStats{Codes: 1}},
		{name: "exactly max", maxLen: 20, in: long + "\r", want: []string{long}, stats: FramerStats{Codes: 1}},
		{name: "one over max", maxLen: 20, in: long + "B\rOK\r", want: []string{"OK"}, stats: FramerStats{Codes: 1, TooLong: 1}, tooLong: true},
		{name: "far over max", maxLen: 20, in: strings.Repeat(long, 50) + "\nOK\n", want: []string{"OK"}, stats: FramerStats{Codes: 1, TooLong: 1}, tooLong: true},
		{name: "STX recovers from overlong", maxLen: 20, in: long + "XX\x02OK\x03", want: []string{"OK"}, stats: FramerStats{Codes: 1, TooLong: 1}, tooLong: true},
		{name: "overlong without terminator", maxLen: 20, in: long + long, want: nil, stats: FramerStats{TooLong: 1}, tooLong: true},
		{name: "default max", in: strings.Repeat("A", DefaultMaxCodeLen+1) + "\r", want: nil, stats: FramerStats{TooLong: 1}, tooLong: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes, f, err := feedAll(t, tt.maxLen, []byte(tt.in))
			if !slices.Equal(codes, tt.want) {
				t.Errorf("codes = %q, want %q", codes, tt.want)
			}
			if got := errors.Is(err, ErrCodeTooLong); got != tt.tooLong {
				t.Errorf("err = %v, want ErrCodeTooLong: %v", err, tt.tooLong)
			}
			if f.Pending() != tt.pending {
				t.Errorf("Pending() = %d, want %d", f.Pending(), tt.pending)
			}
			if f.Stats() != tt.stats {
				t.Errorf("Stats() = %+v, want %+v", f.Stats(), tt.stats)
			}
		})
	}
}

// Ensure that a code split across calls is reassembled, and that the
// overlong error is reported by the call in which discarding starts.
func TestFramer_Feed_Chunks(t *testing.T) {
	f := &Framer{MaxLen: 4}
	var codes []string
	emit := func(s string) { codes = append(codes, s) }
	steps := []struct {
		in      string
		tooLong bool
	}{
		{"AB", false}, {"C\r", false}, {"\n", false}, {"DEF", false},
		{"GH", true}, {"IJ", false}, {"\rKL", false}, {"\x03", false},
	}
	for i, s := range steps {
		err := f.Feed([]byte(s.in), emit)
		if got := errors.Is(err, ErrCodeTooLong); got != s.tooLong {
			t.Errorf("step %d (%q): err = %v, want ErrCodeTooLong: %v", i, s.in, err, s.tooLong)
		}
	}
	if want := []string{"ABC", "KL"}; !slices.Equal(codes, want) {
		t.Errorf("codes = %q, want %q", codes, want)
	}
}

// Ensure that Reset drops an unterminated code so that it is not glued to
// the bytes after a reconnect.
func TestFramer_Reset(t *testing.T) {
	f := &Framer{}
	var codes []string
	emit := func(s string) { codes = append(codes, s) }
	_ = f.Feed([]byte("HC1:CUT-OFF"), emit)
	f.Reset()
	_ = f.Feed([]byte("HC1:NEW\r"), emit)
	if want := []string{"HC1:NEW"}; !slices.Equal(codes, want) {
		t.Errorf("codes = %q, want %q", codes, want)
	}
	if got := f.Stats().Partial; got != 1 {
		t.Errorf("Partial = %d, want 1", got)
	}
}

// Ensure that feeding the Framer does not allocate per byte once warm.
func TestFramer_Feed_Allocs(t *testing.T) {
	f := &Framer{}
	in := []byte("HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0B\r\n")
	emit := func(string) {}
	_ = f.Feed(in, emit)
	allocs := testing.AllocsPerRun(100, func() { _ = f.Feed(in, emit) })
	if allocs > 1 { // the emitted string
		t.Errorf("Feed allocates %v times per code, want at most 1", allocs)
	}
}

// FuzzFramer checks the Framer's invariants on arbitrary input: emitted codes
// are non-empty, bounded, free of control bytes, and independent of how the
// input is chunked.
func FuzzFramer(f *testing.F) {
	for _, s := range []string{
		"HC1:ABC\r\n",
		"\x02HC1:ABC\x03\r\n",
		"A\rB\nC\r\nD\x03",
		"noise\x02A\x02B\x03",
		"\x00\x1b[A\x7f\r",
		"안심\r",
	} {
		f.Add([]byte(s), uint8(7), uint16(16))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, maxLen uint16) {
		limit := int(maxLen%64) + 1
		whole, wf, _ := feedAll(t, limit, in)

		g := &Framer{MaxLen: limit}
		var chunked []string
		step := int(chunk%16) + 1
		for p := in; len(p) > 0; {
			n := min(step, len(p))
			_ = g.Feed(p[:n], func(s string) { chunked = append(chunked, s) })
			p = p[n:]
			step = step%13 + 1 // vary chunk sizes
		}
		if !slices.Equal(whole, chunked) {
			t.Fatalf("chunked feed gave %q, whole feed %q", chunked, whole)
		}
		if wf.Stats() != g.Stats() || wf.Pending() != g.Pending() {
			t.Fatalf("chunked stats %+v pending %d, whole %+v pending %d", g.Stats(), g.Pending(), wf.Stats(), wf.Pending())
		}
		if uint64(len(whole)) != wf.Stats().Codes {
			t.Fatalf("emitted %d codes, counted %d", len(whole), wf.Stats().Codes)
		}
		if wf.Pending() > limit {
			t.Fatalf("Pending() = %d beyond MaxLen %d", wf.Pending(), limit)
		}
		// Codes are made of the input's bytes, in order: with the
		// non-framing control bytes taken out, each is a substring.
		stripped := slices.DeleteFunc(slices.Clone(in), func(b byte) bool {
			return (b < 0x20 || b == 0x7f) && !slices.Contains([]byte{stx, etx, cr, lf}, b)
		})
		for _, c := range whole {
			if len(c) == 0 || len(c) > limit {
				t.Fatalf("code %q has length %d, want 1..%d", c, len(c), limit)
			}
			for i := range len(c) {
				if c[i] < 0x20 || c[i] == 0x7f {
					t.Fatalf("code %q has control byte %#x at %d", c, c[i], i)
				}
			}
			if !bytes.Contains(stripped, []byte(c)) {
				t.Fatalf("code %q is not a substring of the control-stripped input %q", c, stripped)
			}
		}
	})
}
