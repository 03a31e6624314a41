package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FlagLateOffline marks an app check-in sent after an offline scan whose
// display code's period does not match the phone's claimed scan time
// (central/appcheckin): kept, and shown to investigators like the other
// marks (see [Flagged]).
const FlagLateOffline uint32 = 1 << 4

// AppCode is a one-time code of the visitor app's phone verification,
// as stored: neither the phone number nor the code, only keyed hashes of
// them under the central's app secret.
type AppCode struct {
	// Phone is HMAC(app secret, E.164 number): one code per number.
	Phone [32]byte
	// Hash is HMAC(app secret, number ‖ code).
	Hash [32]byte
	// Consent is the version of the consent text the visitor accepted
	// when asking for the code; Lang the language they asked in.
	Consent string
	Lang    string
	Sent    time.Time
	Expires time.Time
	// Tries counts the wrong codes tried so far.
	Tries int
}

// AppAccount is a registered person's use of the visitor app: the
// consent they gave and the serial of their current app pass. It holds
// no identity: Person is the vault's id.
type AppAccount struct {
	Person string `json:"person"`
	// Consent is the version of the consent text accepted at the last
	// verification, ConsentAt when.
	Consent   string    `json:"consent"`
	ConsentAt time.Time `json:"consent_at"`
	// Serial is the serial of the person's current app pass (pass.Pass
	// serials count app passes per person: each verification issues the
	// next, so revoking one leaves the next valid). 0: none yet.
	Serial uint32 `json:"serial"`
	// PassIssued is when the current pass was issued: the pass is signed
	// again from the serial and this time (Ed25519 signs
	// deterministically), so the store keeps no pass text.
	PassIssued time.Time `json:"pass_issued"`
	// Revoked is set when the current pass was revoked (lost phone).
	Revoked bool      `json:"revoked,omitempty"`
	Created time.Time `json:"created"`
}

// AppSession is a device session of the visitor app. Only the SHA-256 of
// its bearer token is stored.
type AppSession struct {
	Hash     [32]byte
	Person   string
	Created  time.Time
	LastUsed time.Time
	Expires  time.Time
}

// AppNotice is an exposure notice in a person's app inbox: the text
// sent, naming a venue and a day, never a case or another person.
type AppNotice struct {
	// ID is unique (the notification's id, "n-…").
	ID     string    `json:"id"`
	Person string    `json:"-"`
	Sent   time.Time `json:"sent"`
	// Day is the KST day of the exposure, "2026-12-01".
	Day       string `json:"date"`
	VenueName string `json:"venue_name"`
	Text      string `json:"text"`    // Korean
	TextEn    string `json:"text_en"` // English
}

// AppReceipt is the answer to an accepted app check-in, kept so that the
// app's resend of the same scan (its client id) is answered again without
// storing it twice, and so that "my visits" can say how a check-in was
// made. It holds no pseudonym: Client is a keyed hash of the pass's
// pseudonym and the app's random per-scan id.
type AppReceipt struct {
	Client [32]byte
	Device string // the stored check-in: (Device, Seq)
	Seq    uint64
	Venue  string
	// How is how it was made: "app-display", "app-poster" or "exit".
	How   string
	Flags []string
	Time  time.Time // the check-in's time
	// Created is when it was stored. DropApp drops a receipt with its
	// check-in's day (by Time).
	Created time.Time
}

// CodeWrongError is TryAppCode's answer to a wrong code: Left more tries
// remain (0: the code is gone).
type CodeWrongError struct{ Left int }

func (e *CodeWrongError) Error() string {
	return fmt.Sprintf("wrong code: %d tries left", e.Left)
}

// ErrCodeExpired is TryAppCode's answer when there is no code to try: it
// expired, was used, or had too many wrong tries (or was never sent).
var ErrCodeExpired = errors.New("no valid code: it expired, was used or was tried too often")

// Apps is the visitor app's storage: one-time codes, accounts, device
// sessions, inbox notices and check-in receipts.
//
// Besides the contract of [Store] (every method atomic, durable when it
// returned nil, safe for concurrent use):
//
//   - PutAppCode replaces the number's earlier code (its tries too).
//   - TryAppCode is one transaction: no code, or one at or past its
//     Expires, or one with maxTries wrong tries, is deleted and answered
//     ErrCodeExpired. A matching hash is answered with the code, which is
//     deleted when consume is set (single use) and kept, its tries
//     unchanged, otherwise. A wrong hash counts a try and is answered a
//     *CodeWrongError with the tries left, deleting the code at the last.
//     Concurrent tries of one right code with consume succeed once.
//   - AppSession returns ErrNotFound for a session unknown, ended or
//     expired at now.
//   - AppNotices lists newest first (Sent, then ID descending); empty, not
//     an error, for a person without notices.
//   - PutAppReceipt refuses a Client stored already with ErrExists.
//   - DeleteAppPerson destroys the person's vault identity as
//     DestroyPersons does (a tombstone remains) and deletes their account,
//     sessions and notices, together; ErrNotFound (or ErrDestroyed) for a
//     person that is not in the vault, and then it changes nothing.
//   - TakeAppLimit is one transaction on the key's bucket: a bucket
//     holds burst events and gains one every every, so burst events may
//     happen at once and then one an every. It answers whether the event
//     at now may happen and counts it only then: a refused event takes
//     nothing. Every central on the store shares the buckets, and a
//     restart keeps them.
//   - DropApp deletes the codes expired at before, the sessions expired
//     at before, the limit buckets full again at before, the notices
//     sent before keepFrom and the receipts of check-ins (Time) before
//     keepFrom; it returns how many in all.
//   - Times keep at least microseconds.
type Apps interface {
	// PutAppCode stores a code for c.Phone, replacing the earlier one.
	PutAppCode(ctx context.Context, c AppCode) error
	// TryAppCode tries hash against the number's code at now.
	TryAppCode(ctx context.Context, phone, hash [32]byte, now time.Time, maxTries int, consume bool) (AppCode, error)

	// PutAppAccount stores a person's account, replacing theirs.
	PutAppAccount(ctx context.Context, a AppAccount) error
	// AppAccount returns a person's account (ErrNotFound).
	AppAccount(ctx context.Context, person string) (AppAccount, error)

	// AddAppSession stores a new session (ErrExists for its hash).
	AddAppSession(ctx context.Context, s AppSession) error
	// AppSession returns the session with the hash, valid at now.
	AppSession(ctx context.Context, hash [32]byte, now time.Time) (AppSession, error)
	// TouchAppSession sets a session's LastUsed and Expires
	// (ErrNotFound).
	TouchAppSession(ctx context.Context, hash [32]byte, now, expires time.Time) error
	// EndAppSessions deletes the person's sessions but the one with hash
	// keep and returns how many it deleted.
	EndAppSessions(ctx context.Context, person string, keep [32]byte) (int, error)

	// AddAppNotice stores a notice (ErrExists for the person's notice
	// of its ID).
	AddAppNotice(ctx context.Context, n AppNotice) error
	// AppNotices returns a person's notices.
	AppNotices(ctx context.Context, person string) ([]AppNotice, error)

	// PutAppReceipt stores a receipt (ErrExists for its Client).
	PutAppReceipt(ctx context.Context, r AppReceipt) error
	// AppReceipt returns the receipt of a client key (ErrNotFound).
	AppReceipt(ctx context.Context, client [32]byte) (AppReceipt, error)
	// AppReceiptAt returns the receipt of a stored check-in (ErrNotFound).
	AppReceiptAt(ctx context.Context, device string, seq uint64) (AppReceipt, error)

	// TakeAppLimit takes an event at now from the token bucket of key
	// (burst events, one more every every) and reports whether it may
	// happen.
	TakeAppLimit(ctx context.Context, key [32]byte, now time.Time, every time.Duration, burst int) (bool, error)

	// DeleteAppPerson destroys a person at now: identity and app data.
	DeleteAppPerson(ctx context.Context, person string, now time.Time) error
	// DropApp drops what expired or is past retention.
	DropApp(ctx context.Context, before, keepFrom time.Time) (int, error)
}

// TakeToken is the token bucket of Apps.TakeAppLimit, kept as the time at
// which the bucket is full again (zero: full): it answers whether an event
// at now may happen and the bucket's new full time (full unchanged when
// not). Both backends store full and apply TakeToken in a transaction.
func TakeToken(full, now time.Time, every time.Duration, burst int) (time.Time, bool) {
	from := full
	if from.Before(now) {
		from = now
	}
	if from.Sub(now) > every*time.Duration(max(burst, 1)-1) {
		return full, false
	}
	return from.Add(every), true
}
