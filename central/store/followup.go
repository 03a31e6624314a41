package store

import (
	"context"
	"time"

	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/notify"
)

// FollowUp is a contact of a case under an investigator's follow-up
// (central/followup): where and when they were exposed, their status, and
// who moved it when. It holds no identity: the pseudonym finds the person
// in the vault.
type FollowUp struct {
	// Case is the case reference the contact was found by (a trace's
	// case_ref). (Case, Pseudonym) is unique.
	Case      string   `json:"case"`
	Pseudonym [16]byte `json:"-"`
	// Investigator is the account following the contact up: their
	// follow-up list holds it.
	Investigator string          `json:"investigator"`
	Venue        string          `json:"venue"`
	Exposed      time.Time       `json:"exposed"`
	Degree       int             `json:"degree"`
	Status       followup.Status `json:"status"`
	// NewCase is the case the contact became when they turned positive:
	// the chain grows from it.
	NewCase string `json:"new_case,omitempty"`
	// History is every status the contact had, oldest first: the first
	// entry is the follow-up's creation (From empty, To ToNotify).
	History []StatusChange `json:"history"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
}

// StatusChange is one move of a follow-up: who made it and when.
type StatusChange struct {
	From followup.Status `json:"from,omitempty"`
	To   followup.Status `json:"to"`
	Who  string          `json:"who"`
	At   time.Time       `json:"at"`
}

// NotificationState is where a notification is.
type NotificationState string

// The states of a notification.
const (
	NotificationPending NotificationState = "pending" // being sent
	NotificationSent    NotificationState = "sent"    // the sender accepted it
	NotificationFailed  NotificationState = "failed"  // the sender gave up
)

// Notification is one message sent, or being sent, to a contact of a
// case: never its text or phone number, only its state and every attempt.
type Notification struct {
	// ID is unique, made by the caller ("n-" and 16 hex digits).
	ID        string   `json:"id"`
	Case      string   `json:"case"`
	Pseudonym [16]byte `json:"-"`
	// Who is the account that asked for it.
	Who   string            `json:"who"`
	State NotificationState `json:"state"`
	// Attempts are the sender's tries, oldest first.
	Attempts []notify.Attempt `json:"attempts,omitempty"`
	// Receipt is the sender's id of the message once sent; Error why it
	// failed.
	Receipt string    `json:"receipt,omitempty"`
	Error   string    `json:"error,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// FollowUps stores the contacts under follow-up and the notifications
// sent to them.
//
// Besides the contract of [Store] (every method atomic, durable when it
// returned nil, safe for concurrent use):
//
//   - AddFollowUp stores a follow-up of status followup.ToNotify whose
//     History is its creation by f.Investigator at f.Created (whatever
//     f's Status, History and Updated say); ErrExists when the case has
//     the pseudonym already. Two concurrent adds store one.
//   - SetFollowUpStatus checks followup.CheckTransition and makes the
//     move in one transaction: concurrent moves from one status succeed
//     once. A refused move changes nothing and returns the
//     *followup.TransitionError.
//   - Lists are in (Case, Pseudonym) order for follow-ups, (Created, ID)
//     for notifications, and empty (not an error) when nothing matches.
//   - Times keep at least microseconds.
type FollowUps interface {
	// AddFollowUp stores a new follow-up (ErrExists) and returns it as
	// stored.
	AddFollowUp(ctx context.Context, f FollowUp) (FollowUp, error)
	// FollowUp returns a case's follow-up of a contact (ErrNotFound).
	FollowUp(ctx context.Context, caseRef string, pseudonym [16]byte) (FollowUp, error)
	// FollowUpsOf returns the follow-ups of an investigator.
	FollowUpsOf(ctx context.Context, investigator string) ([]FollowUp, error)
	// CaseFollowUps returns the follow-ups of a case.
	CaseFollowUps(ctx context.Context, caseRef string) ([]FollowUp, error)
	// SetFollowUpStatus moves a follow-up to status to, made by who at
	// now, appending the move to its History and setting Updated; newCase
	// is the new case of a move to followup.Positive (required then, and
	// refused with another move: an error matching ErrInvalidFollowUp).
	// It returns the follow-up as it is after (ErrNotFound,
	// *followup.TransitionError).
	SetFollowUpStatus(ctx context.Context, caseRef string, pseudonym [16]byte, to followup.Status, who, newCase string, now time.Time) (FollowUp, error)
	// PutNotification stores a notification, replacing the one of the
	// same ID.
	PutNotification(ctx context.Context, n Notification) error
	// Notifications returns the notifications of a case.
	Notifications(ctx context.Context, caseRef string) ([]Notification, error)
	// DropFollowUps deletes the follow-ups and notifications created
	// before t and returns how many of each: they name contacts'
	// pseudonyms, so they go with the check-ins they came from
	// (retention, 28 days).
	DropFollowUps(ctx context.Context, before time.Time) (followUps, notifications int, err error)
}

// ErrInvalidFollowUp is the error of SetFollowUpStatus with a new case
// missing for a positive contact or given for another move.
var ErrInvalidFollowUp = errInvalidFollowUp{}

type errInvalidFollowUp struct{}

func (errInvalidFollowUp) Error() string {
	return "a contact who turns positive needs the new case's reference, and only then"
}

// CheckFollowUpMove checks a move of SetFollowUpStatus from status from;
// backends call it inside their transaction.
func CheckFollowUpMove(from, to followup.Status, newCase string) error {
	if err := followup.CheckTransition(from, to); err != nil {
		return err
	}
	if (to == followup.Positive) != (newCase != "") {
		return ErrInvalidFollowUp
	}
	return nil
}

// NewFollowUp returns f as AddFollowUp stores it: status ToNotify, its
// creation as its only history.
func NewFollowUp(f FollowUp) FollowUp {
	f.Status = followup.ToNotify
	f.NewCase = ""
	f.Updated = f.Created
	f.History = []StatusChange{{To: followup.ToNotify, Who: f.Investigator, At: f.Created}}
	return f
}
