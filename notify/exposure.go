package notify

import (
	"bytes"
	"fmt"
	"text/template"
	"time"
	"unicode/utf8"
)

// kst is Korea Standard Time, the zone of the dates in messages.
var kst = time.FixedZone("KST", 9*3600)

// Exposure templates, executed with an ExposureData: Korean (the
// message) and English (its fallback). They name the venue and the day,
// never the case, whom the contact met or how.
var (
	ExposureKo = template.Must(template.New("ko").Parse(
		"{{.Date}} {{.Venue}}{{.Object}} 방문하신 분은 가까운 선별진료소에서 검사를 받으시기 바랍니다"))
	ExposureEn = template.Must(template.New("en").Parse(
		"If you visited {{.Venue}} on {{.DateEn}}, please get tested at your nearest screening clinic."))
)

// ExposureData is what the exposure templates see.
type ExposureData struct {
	Venue  string
	Date   string // "2026년 11월 26일"
	DateEn string // "26 Nov 2026"
	// Object is the Korean object particle that follows Venue: "을" after a
	// final consonant, "를" after a vowel, "을(를)" after a letter that is
	// not Hangul.
	Object string
}

// objectParticle returns the object particle for a word.
func objectParticle(word string) string {
	r, _ := utf8.DecodeLastRuneInString(word)
	switch {
	case r < 0xAC00 || r > 0xD7A3:
		return "을(를)"
	case (r-0xAC00)%28 == 0:
		return "를"
	}
	return "을"
}

// Exposure returns the message to someone who visited venue on the KST
// day of visited: Korean with the English fallback.
func Exposure(to, venue string, visited time.Time, ref string) (Message, error) {
	d := visited.In(kst)
	data := ExposureData{Venue: venue, Date: fmt.Sprintf("%d년 %d월 %d일", d.Year(), d.Month(), d.Day()),
		DateEn: d.Format("2 Jan 2006"), Object: objectParticle(venue)}
	var ko, en bytes.Buffer
	if err := ExposureKo.Execute(&ko, data); err != nil {
		return Message{}, fmt.Errorf("notify: exposure message: %w", err)
	}
	if err := ExposureEn.Execute(&en, data); err != nil {
		return Message{}, fmt.Errorf("notify: exposure message: %w", err)
	}
	return Message{To: to, Text: ko.String(), Fallback: en.String(), Ref: ref}, nil
}
