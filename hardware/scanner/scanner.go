// Package scanner reads visitors' codes from the kiosk's input devices: USB 2D
// scanners in serial / CDC-ACM mode, keyboard-wedge HID scanners through Linux
// evdev, and (in package camera) camera frames.
//
// Every input device is a [Scanner]: it runs until its context is done, hands
// each code it reads to an emit function, and survives the device going away
// (unplug, replug) by reopening it with a backoff.
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
