// Package notify sends short text messages to people: exposure notices to
// the contacts of a case, and one-time codes of the visitor app.
//
// One interface, [Sender], and two adapters: [FileSink], which appends
// each message as a JSON line to a file (the default; the demo and the
// tests read it), and [Webhook], which posts each message to an SMS
// gateway over HTTP with retries.
//
// # Privacy
//
// A message names its recipient (a phone number) and holds its text; the
// adapters never log either. Texts are made by the templates of this
// package ([Exposure]), which name a venue and a day and never a case or
// another person.
package notify

import (
	"context"
	"time"
)

// Message is one text message.
type Message struct {
	// To is the recipient's phone number, E.164 ("+821012345678").
	To string `json:"to"`
	// Text is the message in Korean.
	Text string `json:"text"`
	// Fallback is the message in English, for recipients who do not read
	// Korean; adapters send it after Text when it is set.
	Fallback string `json:"fallback,omitempty"`
	// Ref is the caller's reference of the message (a notification id):
	// it names no person.
	Ref string `json:"ref,omitempty"`
}

// Body returns the text as sent: Text, and Fallback on a line of its own
// when it is set.
func (m Message) Body() string {
	if m.Fallback == "" {
		return m.Text
	}
	return m.Text + "\n" + m.Fallback
}

// Receipt is what a Sender reports of a message it sent.
type Receipt struct {
	// ID is the adapter's id of the message (the sink's line id, the
	// gateway's message id when it answers one).
	ID string `json:"id"`
	// Attempts is how many tries it took (1 for a sink).
	Attempts int       `json:"attempts"`
	Sent     time.Time `json:"sent"`
}

// Attempt is one try of a Sender to deliver a message.
type Attempt struct {
	N      int       `json:"n"` // 1 for the first try
	At     time.Time `json:"at"`
	Status int       `json:"status,omitempty"` // the HTTP status, 0 when none came
	Err    string    `json:"err,omitempty"`    // empty when it succeeded
}

// Sender sends messages. Send returns when the message is delivered to
// the adapter's next hop (written to the sink, accepted by the gateway),
// or with an error once it gave up: the message may then still have been
// delivered (an answer lost), so a caller that retries may send it twice.
// Send is safe for concurrent use and never logs the recipient or the
// text.
type Sender interface {
	Send(ctx context.Context, m Message) (Receipt, error)
}
