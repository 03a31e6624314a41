package pass

import (
	"errors"
	"fmt"
)

// Reason codes of the pass errors. They are stable strings, fit for a kiosk's
// screen, logs and metrics labels.
const (
	// ReasonMalformed: the text is not a pass (wrong prefix, bad Base45, an
	// unknown kind, trailing bytes, a non-canonical encoding).
	ReasonMalformed = "malformed"
	// ReasonTruncated: the text is the beginning of a pass but too short.
	ReasonTruncated = "truncated"
	// ReasonUnsupported: the pass has a format version this code does not know.
	ReasonUnsupported = "unsupported-version"
	// ReasonUnknownKey: the pass was signed by a key that is not in the bundle.
	ReasonUnknownKey = "unknown-key"
	// ReasonBadSignature: the signature does not match the contents.
	ReasonBadSignature = "bad-signature"
	// ReasonExpired: the pass's expiry time has passed.
	ReasonExpired = "expired"
	// ReasonNotYetValid: the pass was issued later than now plus [ClockSkew].
	ReasonNotYetValid = "not-yet-valid"
	// ReasonRevoked: the pass is on the revocation list.
	ReasonRevoked = "revoked"
)

// Error is the error returned for a pass that cannot be parsed or is not
// valid. Its message never contains the pass text or the pseudonym.
type Error struct {
	// Reason is one of the Reason constants.
	Reason string
	// Err describes the problem in more detail; it may be nil.
	Err error
}

// Error returns "pass: REASON" followed by the detail, if any.
func (e *Error) Error() string {
	if e.Err == nil {
		return "pass: " + e.Reason
	}
	return "pass: " + e.Reason + ": " + e.Err.Error()
}

// Unwrap returns the detail error.
func (e *Error) Unwrap() error { return e.Err }

// Reason returns the reason code of the first [*Error] in err's tree, or ""
// if there is none.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// newError returns an *Error with a formatted detail message.
func newError(reason, format string, args ...any) error {
	return &Error{Reason: reason, Err: fmt.Errorf(format, args...)}
}
