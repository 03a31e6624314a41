package web

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/anshim/anshim/central/poster"
)

// Clerk is what the clerks' pages (/clerk) ask of the central, which
// implements it (central/web_clerk.go). A clerk is a community centre's
// staff member (or an admin) who registers visitors without a smartphone
// and prints their check-in cards. Who is the account acting, named in
// the audit events. A clerk never sees a visitor's name or full phone
// number after registration: a Visitor holds the initial and the number
// masked.
type Clerk interface {
	// RegisterVisitor registers a visitor in the identity vault with
	// their name and phone number (any usual Korean form) and writes a
	// visitor-registered audit event naming who. ErrInvalid for a name
	// or number the vault refuses; for a number registered already, the
	// visitor registered with it and an error matching store.ErrExists.
	RegisterVisitor(ctx context.Context, who, name, phone string) (Visitor, error)
	// FindVisitor finds the visitor registered with the phone number by
	// the vault's blind index: ErrInvalid for a number that is none,
	// store.ErrNotFound when no one is registered with it.
	FindVisitor(ctx context.Context, phone string) (Visitor, error)
	// Visitor returns the visitor with the id (store.ErrNotFound;
	// store.ErrDestroyed once their identity is destroyed).
	Visitor(ctx context.Context, id string) (Visitor, error)
	// PrintCard issues the visitor a new card pass and revokes their
	// earlier valid cards the way Admin.RevokeCard does (kiosks refuse
	// them within seconds; a pass-revoked audit event each), then writes
	// a card-issued audit event naming who. It returns the new card's
	// serial and the serials it revoked.
	PrintCard(ctx context.Context, who, id string) (serial uint32, revoked []uint32, err error)
	// Card returns the printable card of the visitor's card serial:
	// store.ErrNotFound for no such card, ErrRevoked for a revoked one.
	// The same card may be printed again (a paper jam) without issuing a
	// new one.
	Card(ctx context.Context, id string, serial uint32) (poster.Card, error)
}

// ErrRevoked is Clerk.Card's answer for a card that is revoked: print a
// new one.
var ErrRevoked = errors.New("card revoked")

// Visitor is a visitor of the identity vault as a clerk sees them.
type Visitor struct {
	ID string
	// Initial is the first letter of their name; Phone their number
	// masked by MaskPhone ("010-****-5678").
	Initial, Phone string
	Registered     time.Time
	// Cards are their card passes, in serial order.
	Cards []Pass
}

// Valid returns the visitor's cards that are not revoked.
func (v Visitor) Valid() []Pass {
	var out []Pass
	for _, c := range v.Cards {
		if !c.Revoked {
			out = append(out, c)
		}
	}
	return out
}

// MaskPhone returns a Korean mobile number in E.164 ("+821012345678") as
// a clerk may see it: its national form with the middle part hidden,
// "010-****-5678" ("011-***-5678" for a 10-digit number). A number from
// abroad shows its country code and last 4 digits, "+86 ****8000";
// anything else its last 4 digits at most.
func MaskPhone(e164 string) string {
	digits := strings.TrimPrefix(e164, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "****"
	}
	if national, ok := strings.CutPrefix(digits, "82"); ok && strings.HasPrefix(e164, "+") {
		national = "0" + national
		if len(national) == 10 || len(national) == 11 {
			return national[:3] + "-" + strings.Repeat("*", len(national)-7) + "-" + national[len(national)-4:]
		}
	}
	if len(digits) <= 4 {
		return "****"
	}
	last := "****" + digits[len(digits)-4:]
	if n, err := phonenumbers.Parse(e164, ""); err == nil && strings.HasPrefix(e164, "+") && n.GetCountryCode() != 82 {
		return "+" + strconv.Itoa(int(n.GetCountryCode())) + " " + last
	}
	return last
}
