package wire

import "strings"

// The check-in stream and the subjects of the sync protocol. Prefixes are
// written without their trailing dot; the functions below add it.
const (
	// Stream is the JetStream stream of check-in batches.
	Stream = "ANSHIM_CHECKINS"
	// CheckInsPrefix starts every batch subject:
	// anshim.checkins.<venue>.<device> (see [CheckInSubject]).
	CheckInsPrefix = "anshim.checkins"
	// CheckInsWildcard is every batch subject: the stream's subjects and
	// its consumer's filter.
	CheckInsWildcard = CheckInsPrefix + ".>"

	// ReceiptsPrefix starts anshim.receipts.<device>, on which the central
	// publishes (core NATS) the receipt of each batch of the device that a
	// new checkpoint covers: a JSON ledger.Receipt (see [ReceiptSubject]).
	ReceiptsPrefix = "anshim.receipts"
	// SubjectReceiptRequest is served by the central (request-reply): a
	// [ReceiptRequest] in, a [LedgerReply] with Receipt out.
	SubjectReceiptRequest = "anshim.ledger.receipt"
	// SubjectConsistencyRequest is served by the central (request-reply):
	// a [ConsistencyRequest] in, a [LedgerReply] with Proof out.
	SubjectConsistencyRequest = "anshim.ledger.consistency"
	// SubjectCheckpointRequest is served by the central (request-reply):
	// any payload in, a [LedgerReply] with Checkpoint (the latest signed
	// checkpoint) out.
	SubjectCheckpointRequest = "anshim.ledger.checkpoint"
	// AlertsPrefix starts anshim.alerts.<device>, where a kiosk reports
	// the evidence of a ledger fork (request-reply: [Evidence] in,
	// [LedgerReply] out; see [AlertSubject]).
	AlertsPrefix = "anshim.alerts"
	// AlertsWildcard is every device's alert subject, as the central
	// subscribes to them.
	AlertsWildcard = AlertsPrefix + ".*"

	// inboxPrefix starts a device's reply subjects: _INBOX_<device>.
	inboxPrefix = "_INBOX_"
)

// CheckInSubject returns the subject a device publishes its batches on:
// anshim.checkins.<venue>.<device>.
func CheckInSubject(venue, device string) string {
	return CheckInsPrefix + "." + venue + "." + device
}

// ParseCheckInSubject splits a batch subject
// anshim.checkins.<venue>.<device>; ok is false for any other subject.
func ParseCheckInSubject(subject string) (venue, device string, ok bool) {
	rest, ok := strings.CutPrefix(subject, CheckInsPrefix+".")
	if !ok {
		return "", "", false
	}
	venue, device, ok = strings.Cut(rest, ".")
	if !ok || venue == "" || device == "" || strings.Contains(device, ".") {
		return "", "", false
	}
	return venue, device, true
}

// ReceiptSubject returns the subject of a device's ledger receipts:
// anshim.receipts.<device>.
func ReceiptSubject(device string) string { return ReceiptsPrefix + "." + device }

// ParseReceiptSubject returns the device of a receipt subject; ok is false
// for any other subject.
func ParseReceiptSubject(subject string) (device string, ok bool) {
	return oneToken(subject, ReceiptsPrefix)
}

// AlertSubject returns the subject a device reports ledger forks on:
// anshim.alerts.<device>.
func AlertSubject(device string) string { return AlertsPrefix + "." + device }

// ParseAlertSubject returns the device of an alert subject; ok is false
// for any other subject.
func ParseAlertSubject(subject string) (device string, ok bool) {
	return oneToken(subject, AlertsPrefix)
}

// InboxPrefix returns a device's reply-subject prefix, _INBOX_<device>,
// for nats.CustomInboxPrefix: replies (PubAcks, ledger answers) and KV
// watch deliveries arrive below it, and the device's permissions allow it
// to subscribe nowhere else (but its receipts).
func InboxPrefix(device string) string { return inboxPrefix + device }

// ParseInboxPrefix returns the device of an inbox prefix; ok is false for
// anything else.
func ParseInboxPrefix(prefix string) (device string, ok bool) {
	device, ok = strings.CutPrefix(prefix, inboxPrefix)
	if !ok || device == "" || !literalToken(device) {
		return "", false
	}
	return device, true
}

// oneToken returns the single token after prefix and a dot.
func oneToken(subject, prefix string) (string, bool) {
	tok, ok := strings.CutPrefix(subject, prefix+".")
	if !ok || !literalToken(tok) {
		return "", false
	}
	return tok, true
}

// literalToken reports whether tok is one literal subject token: not
// empty, no dot, wildcard or white space.
func literalToken(tok string) bool {
	return tok != "" && !strings.ContainsAny(tok, ".*> \t\r\n")
}

// ValidSubject reports whether s is a literal subject: non-empty tokens
// separated by dots, no wildcards or white space.
func ValidSubject(s string) bool {
	if s == "" {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if !literalToken(tok) {
			return false
		}
	}
	return true
}
