package form

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/anshim/anshim/internal/text"
)

// kst is Korea Standard Time: the days of a case are KST days.
var kst = time.FixedZone("KST", 9*3600)

// Case is an investigator's form opening a case: the case reference, who
// (a phone number or a person id), the onset date or, for an
// asymptomatic case, the test date, the degree and optional filters.
type Case struct {
	CaseRef, Phone, Person string
	Onset, Tested          string // YYYY-MM-DD, KST
	Asymptomatic           bool
	Degree                 string
	Venue                  string
	From, To               string // YYYY-MM-DD, KST: the exposures kept
}

// NewCase reads the case form of a parsed POST.
func NewCase(r *http.Request) Case {
	return Case{CaseRef: value(r, "case_ref"), Phone: value(r, "phone"), Person: value(r, "person"),
		Onset: value(r, "onset"), Tested: value(r, "tested"), Asymptomatic: value(r, "asymptomatic") != "",
		Degree: value(r, "degree"), Venue: value(r, "venue"), From: value(r, "from"), To: value(r, "to")}
}

// CaseValues are a valid Case form's values.
type CaseValues struct {
	Onset, Tested time.Time
	Degree        int
	From, To      time.Time // To is the end of its day
}

// day parses a KST date ("" is zero).
func day(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation("2006-01-02", s, kst)
	return t, err == nil
}

// Validate checks the form and returns its values: a case reference by
// the rules of a trace's, exactly one of phone and person, the date the
// case's window starts from, a degree of 1 to 4 (default 2) and filter
// dates in order.
func (f Case) Validate() (CaseValues, error) {
	var v CaseValues
	if len(f.CaseRef) > MaxCaseRef || text.Check(f.CaseRef, MinCaseRefAlnum) != nil {
		return v, invalid("case_ref", "console.form.caseref.invalid")
	}
	if (f.Phone == "") == (f.Person == "") {
		return v, invalid("phone", "console.form.who.invalid")
	}
	if f.Person != "" && (len(f.Person) > 64 || !strings.HasPrefix(f.Person, "p-")) {
		return v, invalid("person", "console.form.person.invalid")
	}
	var ok bool
	if v.Onset, ok = day(f.Onset); !ok {
		return v, invalid("onset", "console.form.date.invalid")
	}
	if v.Tested, ok = day(f.Tested); !ok {
		return v, invalid("tested", "console.form.date.invalid")
	}
	if f.Asymptomatic && v.Tested.IsZero() || !f.Asymptomatic && v.Onset.IsZero() {
		return v, invalid("onset", "console.form.date.missing")
	}
	v.Degree = 2
	if f.Degree != "" {
		n, err := strconv.Atoi(f.Degree)
		if err != nil || n < 1 || n > 4 {
			return v, invalid("degree", "console.form.degree.invalid")
		}
		v.Degree = n
	}
	if len(f.Venue) > 64 {
		return v, invalid("venue", "console.form.venue.invalid")
	}
	if v.From, ok = day(f.From); !ok {
		return v, invalid("from", "console.form.date.invalid")
	}
	if v.To, ok = day(f.To); !ok {
		return v, invalid("to", "console.form.date.invalid")
	}
	if !v.To.IsZero() {
		v.To = v.To.AddDate(0, 0, 1)
		if !v.From.IsZero() && !v.From.Before(v.To) {
			return v, invalid("to", "console.form.range.invalid")
		}
	}
	return v, nil
}

// ConsoleReveal is an investigator's request to reveal the identities of
// a set of a trace's contacts: all, one degree ("d2") or one venue
// ("v:ID"), and why.
type ConsoleReveal struct {
	Trace  string
	Set    string
	Reason string
}

// NewConsoleReveal reads the reveal form of a parsed POST.
func NewConsoleReveal(r *http.Request) ConsoleReveal {
	return ConsoleReveal{Trace: value(r, "trace"), Set: value(r, "set"), Reason: value(r, "reason")}
}

// Validate checks the set and the reason and returns the set's degree
// (0: any) and venue ("": any).
func (f ConsoleReveal) Validate() (degree int, venue string, err error) {
	switch {
	case f.Set == "all":
	case len(f.Set) == 2 && f.Set[0] == 'd' && f.Set[1] >= '1' && f.Set[1] <= '4':
		degree = int(f.Set[1] - '0')
	case strings.HasPrefix(f.Set, "v:") && len(f.Set) > 2 && len(f.Set) <= 66:
		venue = f.Set[2:]
	default:
		return 0, "", invalid("set", "console.reveal.set.invalid")
	}
	if len(f.Reason) > MaxRevealReason || text.Check(f.Reason, MinRevealAlnum) != nil {
		return 0, "", invalid("reason", "console.reveal.reason.invalid")
	}
	return degree, venue, nil
}
