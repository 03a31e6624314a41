// Package feedback tells the visitor at the kiosk what happened to a scan:
// LEDs, a buzzer and an optional door relay through GPIO, or a terminal for
// development. Messages are in Korean with English.
//
// # Indicators
//
//   - [GPIO]: green and red LEDs, a buzzer and a door relay on periph.io
//     output pins ([OpenGPIO] by pin name, [NewGPIO] with pins in hand).
//   - [Terminal]: one line per event on an io.Writer, for development.
//   - [Multi]: shows each event on several indicators.
//   - feedbacktest.Recorder: a fake that records events.
//
// [Message] gives the visitor-facing text for an event in Korean and English.
package feedback

import "context"

// Result is the outcome of one scan, as the visitor sees it.
type Result int

const (
	// Accepted: the check-in is committed to the outbox.
	Accepted Result = iota + 1
	// Duplicate: the same pass was already checked in here recently.
	Duplicate
	// Rejected: the code is not a valid pass; Reason says why.
	Rejected
	// OutOfOrder: the kiosk cannot record check-ins (full disk, broken
	// storage); the visitor must use another way in.
	OutOfOrder
)

// Event is one thing to show the visitor.
type Event struct {
	Result Result
	// Reason is a short machine-readable reason code, e.g. "expired",
	// "revoked", "bad-signature", "disk-full". Empty for Accepted.
	Reason string
	// Exit reports an exit scan (check-out).
	Exit bool
}

// Indicator shows events to the visitor. Indicate must return quickly: long
// signals (a long beep, a door pulse) finish in the background, and a newer
// event cuts an older one short.
type Indicator interface {
	Indicate(ctx context.Context, ev Event) error
}
