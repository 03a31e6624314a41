package scanner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ensure that timevalSize follows unix.Timeval, which matches the kernel's
// input_event on every GOARCH (8 bytes on 32-bit ARM, 16 on arm64).
func TestTimevalSize(t *testing.T) {
	if want := int(unsafe.Sizeof(unix.Timeval{})); timevalSize != want {
		t.Errorf("timevalSize = %d, want %d", timevalSize, want)
	}
}

// fifoDevice stands in for an event device with a named pipe carrying raw
// input_event bytes. It exercises Evdev's open, read, reconnect and
// cancellation paths; the grab needs a real device (see TestEvdev_Uinput).
type fifoDevice struct {
	path string
	w    *os.File
}

func plugFIFO(t *testing.T, dir, link string) *fifoDevice {
	t.Helper()
	path := filepath.Join(dir, "event"+time.Now().Format("150405.000000000"))
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	// O_RDWR: does not wait for a reader, and keeps the pipe open.
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(path, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	d := &fifoDevice{path: path, w: w}
	t.Cleanup(d.unplug)
	return d
}

func (d *fifoDevice) unplug() {
	d.w.Close()
	os.Remove(d.path)
}

func (d *fifoDevice) send(t *testing.T, b []byte) {
	t.Helper()
	if _, err := d.w.Write(b); err != nil {
		t.Fatal(err)
	}
}

// Ensure that Evdev reads key events from its device, follows a by-id link
// to a new node after an unplug, drops a code cut off by the unplug, and
// returns promptly when cancelled.
func TestEvdev_Run_FIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := filepath.Join(dir, "usb-Anshim_Wedge-event-kbd")
	dev := plugFIFO(t, dir, link)
	at := time.Date(2021, 1, 4, 12, 0, 0, 0, time.UTC)
	h := newHarness()
	e, err := NewEvdev(EvdevConfig{
		Path:        link,
		NoGrab:      true, // a FIFO cannot be grabbed
		Source:      "wedge",
		ReadTimeout: 50 * time.Millisecond,
		BackoffMin:  10 * time.Millisecond,
		BackoffMax:  50 * time.Millisecond,
		Now:         func() time.Time { return at },
		OnConnect:   h.onConnect,
		OnError:     h.onError,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.start(t, e)
	h.connected(t)
	dev.send(t, typeString(t, "HC1:AB$%*+-./ :Z", keyRightShift))
	got := h.codes(t, 1)
	if got[0].Text != "HC1:AB$%*+-./ :Z" || got[0].Source != "wedge" || !got[0].At.Equal(at) {
		t.Errorf("scan = %+v, want HC1:AB$%%*+-./ :Z from wedge at %v", got[0], at)
	}
	// Idle: read deadlines pass without a reconnect.
	time.Sleep(200 * time.Millisecond)
	h.mu.Lock()
	if h.nConnect != 1 || len(h.errList) != 0 {
		t.Errorf("idle device: %d connects, errors %v; want 1, none", h.nConnect, h.errList)
	}
	h.mu.Unlock()

	cut := typeString(t, "CUT", keyLeftShift)
	dev.send(t, cut[:len(cut)-6*InputEventSize]) // without the Enter press and release
	time.Sleep(50 * time.Millisecond)
	dev.unplug()
	select {
	case err := <-h.errs:
		t.Logf("unplug reported: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("unplug not reported")
	}
	dev2 := plugFIFO(t, dir, link)
	if got := h.connected(t); got != dev2.path {
		t.Errorf("reconnected to %s, want %s", got, dev2.path)
	}
	dev2.send(t, typeString(t, "AFTER", keyLeftShift))
	if got := texts(h.codes(t, 1)); got[0] != "AFTER" {
		t.Errorf("code after replug = %q, want AFTER", got[0])
	}
	took, err := h.stop(t)
	if !errors.Is(err, context.Canceled) || took > time.Second {
		t.Errorf("Run = %v after %v, want context.Canceled within 1 s", err, took)
	}
}

// Ensure that a failed grab is reported (and retried) rather than reading a
// device whose keystrokes would also reach the console.
func TestEvdev_Run_GrabFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := filepath.Join(dir, "kbd")
	plugFIFO(t, dir, link)
	h := newHarness()
	e, err := NewEvdev(EvdevConfig{Path: link, BackoffMin: time.Minute, OnConnect: h.onConnect, OnError: h.onError})
	if err != nil {
		t.Fatal(err)
	}
	h.start(t, e)
	select {
	case err := <-h.errs:
		if !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "grab") {
			t.Errorf("error = %v, want a grab error wrapping ENOTTY", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("grab failure not reported")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nConnect != 0 {
		t.Error("OnConnect called although the grab failed")
	}
}

// Ensure that configurations retrying cannot fix are refused up front.
func TestNewEvdev_Invalid(t *testing.T) {
	for _, cfg := range []EvdevConfig{
		{},
		{Path: "/dev/input/event0", ReadTimeout: -time.Second},
		{Path: "/dev/input/event0", BackoffMin: time.Hour, BackoffMax: time.Second},
	} {
		if _, err := NewEvdev(cfg); err == nil {
			t.Errorf("NewEvdev(%+v) succeeded, want an error", cfg)
		}
	}
}

// uinput ioctls (linux/uinput.h).
const (
	uiDevCreate  = 0x5501
	uiDevDestroy = 0x5502
	uiDevSetup   = 0x405c5503 // _IOW('U', 3, struct uinput_setup), 92 bytes
	uiSetEvBit   = 0x40045564
	uiSetKeyBit  = 0x40045565
	uiGetSysname = 0x8040552c // _IOC(_IOC_READ, 'U', 44, 64)
)

// virtualKeyboard is a keyboard made through /dev/uinput: a real evdev
// device, so Evdev's open, grab and read run against the kernel.
type virtualKeyboard struct {
	f     *os.File
	event string // /dev/input/eventN
}

func newVirtualKeyboard(t *testing.T) *virtualKeyboard {
	t.Helper()
	f, err := os.OpenFile("/dev/uinput", os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Skipf("SKIPPED, real evdev test NOT RUN: cannot open /dev/uinput: %v. "+
			"It needs a kernel with uinput (CONFIG_INPUT_UINPUT, `modprobe uinput`) and write access; "+
			"run it on the kiosk image. Key decoding is still covered by TestKeyDecoder_* and FuzzKeyDecoder, "+
			"and the reader loop by TestEvdev_Run_FIFO.", err)
	}
	t.Cleanup(func() { f.Close() })
	fd := int(f.Fd())
	ioctl := func(req uint, arg uintptr) {
		t.Helper()
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), arg); errno != 0 {
			t.Fatalf("uinput ioctl %#x: %v", req, errno)
		}
	}
	ioctl(uiSetEvBit, evKey)
	for code := range uint16(128) {
		ioctl(uiSetKeyBit, uintptr(code))
	}
	var setup [92]byte
	copy(setup[0:], []byte{0x03, 0x00, 0x34, 0x12, 0x78, 0x56, 0x01, 0x00}) // BUS_USB, vendor, product, version
	copy(setup[8:], "Anshim test wedge scanner")
	ioctl(uiDevSetup, uintptr(unsafe.Pointer(&setup)))
	ioctl(uiDevCreate, 0)
	t.Cleanup(func() { unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uiDevDestroy, 0) })

	var name [64]byte
	ioctl(uiGetSysname, uintptr(unsafe.Pointer(&name)))
	sys := filepath.Join("/sys/devices/virtual/input", string(bytes.TrimRight(name[:], "\x00")))
	deadline := time.Now().Add(3 * time.Second)
	for {
		entries, _ := os.ReadDir(sys)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "event") {
				ev := filepath.Join("/dev/input", e.Name())
				if _, err := os.Stat(ev); err == nil {
					return &virtualKeyboard{f: f, event: ev}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Skipf("SKIPPED, real evdev test NOT RUN: uinput device %s made no /dev/input/event* node (no devtmpfs/udev here?)", sys)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (k *virtualKeyboard) send(t *testing.T, events []byte) {
	t.Helper()
	// uinput takes whole input_events, timestamps ignored.
	for len(events) > 0 {
		n, err := k.f.Write(events[:InputEventSize])
		if err != nil || n != InputEventSize {
			t.Fatalf("write to uinput: %d, %v", n, err)
		}
		events = events[InputEventSize:]
	}
}

// Ensure that Evdev reads a real (uinput) keyboard through a by-id style
// link, holds an exclusive grab on it, and decodes shifted keys.
func TestEvdev_Uinput(t *testing.T) {
	kbd := newVirtualKeyboard(t)
	link := filepath.Join(t.TempDir(), "usb-Anshim_test-event-kbd")
	if err := os.Symlink(kbd.event, link); err != nil {
		t.Fatal(err)
	}
	h := newHarness()
	e, err := NewEvdev(EvdevConfig{Path: link, OnConnect: h.onConnect, OnError: h.onError})
	if err != nil {
		t.Fatal(err)
	}
	h.start(t, e)
	if got := h.connected(t); got != kbd.event {
		t.Errorf("connected to %s, want %s", got, kbd.event)
	}

	// The grab is exclusive: nobody else may grab the device now.
	other, err := os.Open(kbd.event)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := unix.IoctlSetInt(int(other.Fd()), eviocgrab, 1); !errors.Is(err, unix.EBUSY) {
		t.Errorf("second EVIOCGRAB = %v, want EBUSY while Evdev holds the grab", err)
	}

	want := []string{"HC1:AB$%*+-./ :Z", "hc1:lower"}
	for _, s := range want {
		kbd.send(t, typeString(t, s, keyLeftShift))
	}
	if got := texts(h.codes(t, len(want))); !slices.Equal(got, want) {
		t.Errorf("codes = %q, want %q", got, want)
	}
}
