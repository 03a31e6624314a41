package feedback

import "testing"

// Ensure that every result and reason gets the right Korean and English
// message, and unknown reasons fall back to the generic one.
func TestMessage(t *testing.T) {
	tests := []struct {
		ev     Event
		ko, en string
	}{
		{Event{Result: Accepted}, "체크인 완료", "Checked in"},
		{Event{Result: Accepted, Exit: true}, "체크아웃 완료", "Checked out"},
		{Event{Result: Duplicate}, "이미 체크인됨", "Already checked in"},
		{Event{Result: Duplicate, Exit: true}, "이미 체크아웃됨", "Already checked out"},
		{Event{Result: Rejected, Reason: "malformed"}, "유효하지 않은 QR", "Invalid code"},
		{Event{Result: Rejected, Reason: "truncated"}, "유효하지 않은 QR", "Invalid code"},
		{Event{Result: Rejected, Reason: "expired"}, "만료된 출입증", "Pass expired"},
		{Event{Result: Rejected, Reason: "expired", Exit: true}, "만료된 출입증", "Pass expired"},
		{Event{Result: Rejected, Reason: "revoked"}, "사용 중지된 출입증", "Pass revoked"},
		{Event{Result: Rejected, Reason: "bad-signature"}, "위조된 출입증", "Forged pass"},
		{Event{Result: Rejected, Reason: "unknown-key"}, "확인할 수 없는 출입증", "Pass cannot be verified"},
		{Event{Result: Rejected, Reason: "not-yet-valid"}, "아직 유효하지 않은 출입증", "Pass not yet valid"},
		{Event{Result: Rejected, Reason: "unsupported-version"}, "지원하지 않는 출입증", "Pass version not supported"},
		{Event{Result: Rejected, Reason: "rate-limited"}, "잠시 후 다시 스캔하세요", "Please scan again shortly"},
		{Event{Result: Rejected, Reason: "some-new-reason"}, "유효하지 않은 QR", "Invalid code"},
		{Event{Result: Rejected}, "유효하지 않은 QR", "Invalid code"},
		{Event{Result: Rejected, Reason: "EXPIRED"}, "유효하지 않은 QR", "Invalid code"},
		{Event{Result: OutOfOrder, Reason: "disk-full"}, "고장 — 다른 방법으로 출입하세요", "Out of order — please use another way in"},
		{Event{Result: OutOfOrder}, "고장 — 다른 방법으로 출입하세요", "Out of order — please use another way in"},
		{Event{}, "오류", "Error"},
		{Event{Result: 99}, "오류", "Error"},
	}
	for _, tt := range tests {
		t.Run(tt.ev.Result.String()+"/"+tt.ev.Reason, func(t *testing.T) {
			ko, en := Message(tt.ev)
			if ko != tt.ko || en != tt.en {
				t.Errorf("Message(%+v) = %q, %q; want %q, %q", tt.ev, ko, en, tt.ko, tt.en)
			}
		})
	}
}

// Ensure that results have readable names for logs.
func TestResult_String(t *testing.T) {
	for r, want := range map[Result]string{Accepted: "accepted", Duplicate: "duplicate", Rejected: "rejected", OutOfOrder: "out-of-order", 0: "unknown"} {
		if got := r.String(); got != want {
			t.Errorf("Result(%d).String() = %q, want %q", int(r), got, want)
		}
	}
}
