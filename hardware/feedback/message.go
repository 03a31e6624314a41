package feedback

// message is one visitor-facing text in Korean and English.
type message struct{ ko, en string }

// Messages shown to the visitor: short, so they fit a small display.
var (
	msgCheckedIn        = message{"체크인 완료", "Checked in"}
	msgCheckedOut       = message{"체크아웃 완료", "Checked out"}
	msgAlreadyIn        = message{"이미 체크인됨", "Already checked in"}
	msgAlreadyOut       = message{"이미 체크아웃됨", "Already checked out"}
	msgInvalid          = message{"유효하지 않은 QR", "Invalid code"}
	msgExpired          = message{"만료된 출입증", "Pass expired"}
	msgRevoked          = message{"사용 중지된 출입증", "Pass revoked"}
	msgForged           = message{"위조된 출입증", "Forged pass"}
	msgUnverifiable     = message{"확인할 수 없는 출입증", "Pass cannot be verified"}
	msgNotYetValid      = message{"아직 유효하지 않은 출입증", "Pass not yet valid"}
	msgUnsupported      = message{"지원하지 않는 출입증", "Pass version not supported"}
	msgTooFast          = message{"잠시 후 다시 스캔하세요", "Please scan again shortly"}
	msgOutOfOrder       = message{"고장 — 다른 방법으로 출입하세요", "Out of order — please use another way in"}
	msgUnknownCondition = message{"오류", "Error"}
)

// rejectMessages maps the Reason of a Rejected event to its message.
var rejectMessages = map[string]message{
	"malformed":           msgInvalid,
	"truncated":           msgInvalid,
	"expired":             msgExpired,
	"revoked":             msgRevoked,
	"bad-signature":       msgForged,
	"unknown-key":         msgUnverifiable,
	"not-yet-valid":       msgNotYetValid,
	"unsupported-version": msgUnsupported,
	"rate-limited":        msgTooFast,
}

// Message returns what to tell the visitor about ev, in Korean and in
// English.
//
// Accepted and Duplicate events say "checked in" or "checked out" following
// ev.Exit. Rejected events are explained by ev.Reason:
//
//	malformed, truncated   유효하지 않은 QR / Invalid code
//	expired                만료된 출입증 / Pass expired
//	revoked                사용 중지된 출입증 / Pass revoked
//	bad-signature          위조된 출입증 / Forged pass
//	unknown-key            확인할 수 없는 출입증 / Pass cannot be verified
//	not-yet-valid          아직 유효하지 않은 출입증 / Pass not yet valid
//	unsupported-version    지원하지 않는 출입증 / Pass version not supported
//	rate-limited           잠시 후 다시 스캔하세요 / Please scan again shortly
//
// Any other reason gets the generic invalid-code message, so a new reason
// never shows a blank screen. An unknown-key pass is not called forged: it
// may be signed with a newly rotated key this kiosk has not synced yet.
// OutOfOrder always asks the visitor to use another way in, whatever the
// reason (the reason is for the operator's log, not the visitor).
func Message(ev Event) (ko, en string) {
	m := msgUnknownCondition
	switch ev.Result {
	case Accepted:
		m = msgCheckedIn
		if ev.Exit {
			m = msgCheckedOut
		}
	case Duplicate:
		m = msgAlreadyIn
		if ev.Exit {
			m = msgAlreadyOut
		}
	case Rejected:
		var ok bool
		if m, ok = rejectMessages[ev.Reason]; !ok {
			m = msgInvalid
		}
	case OutOfOrder:
		m = msgOutOfOrder
	}
	return m.ko, m.en
}

// String returns the Result's name, for logs.
func (r Result) String() string {
	switch r {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Rejected:
		return "rejected"
	case OutOfOrder:
		return "out-of-order"
	}
	return "unknown"
}
