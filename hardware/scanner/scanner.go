// Package scanner reads visitors' codes from the kiosk's input devices: USB 2D
// scanners in serial / CDC-ACM mode, keyboard-wedge HID scanners through Linux
// evdev, and (in package camera) camera frames.
//
// Every input device is a [Scanner]: it runs until its context is done, hands
// each code it reads to an emit function, and survives the device going away
// (unplug, replug) by reopening it with a backoff.
//
// # Devices
//
//   - [Serial]: a scanner in serial / CDC-ACM ("USB COM port") mode, through
//     github.com/tarm/serial.
//   - [Evdev]: a keyboard-wedge (USB HID keyboard) scanner, grabbed through
//     Linux evdev so its keystrokes do not reach the console.
//   - scannertest.Fake: a fake with channels to inject scans and faults.
//
// # Framing
//
// Scanners end each code with CR, LF, CRLF, or wrap it in STX ... ETX; a
// [Framer] cuts a byte stream into codes, bounds their length and drops
// control bytes. A [KeyDecoder] does the same for the key events of a
// keyboard-wedge scanner. Both are fuzzed (FuzzFramer, FuzzKeyDecoder) with
// seed corpora under testdata/fuzz.
//
// # Configuration
//
// Prefer the stable udev links (/dev/serial/by-id/..., /dev/input/by-id/...)
// to numbered device nodes: the links are resolved again on every reconnect,
// so a scanner that comes back as ttyACM1 instead of ttyACM0 is found.
package scanner

import (
	"context"
	"time"
)

// Scan is one code read by one input device.
type Scan struct {
	// Text is the decoded code content, without framing or terminators.
	Text string
	// Source names the device that read it (for logs; never personal data).
	Source string
	// Exit reports that the device is marked as an exit scanner.
	Exit bool
	// At is when the code was read, from the scanner's clock.
	At time.Time
}

// Scanner is an input device that reads codes.
//
// Run blocks until ctx is done, calling emit for every code read, in order.
// It reopens the device after errors (unplug, replug) and returns only
// ctx.Err() or an error that retrying cannot fix (such as a bad
// configuration). emit must not block for long.
type Scanner interface {
	Run(ctx context.Context, emit func(Scan)) error
}
