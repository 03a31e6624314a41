package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/anshim/anshim/central/poster"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/pass"
)

// Audit event kinds of the clerks' cards (web.Clerk).
const (
	// AuditVisitorRegistered: a clerk registered a visitor in the
	// identity vault; the detail holds the SHA-256 of the person's id.
	AuditVisitorRegistered = "visitor-registered"
	// AuditCardIssued: a card pass was issued to a visitor; the detail
	// holds the SHA-256 of the person's id, the card's serial and the
	// serials it revoked (each also a pass-revoked event).
	AuditCardIssued = "card-issued"
)

// webClerk is the central's side of the clerks' pages (web.Clerk). The
// name and phone number a clerk typed go sealed into the vault; what the
// pages show of a visitor afterwards, the initial and the number masked,
// is opened from the sealed identity on each request and never logged.
type webClerk struct{ s *Server }

var _ web.Clerk = webClerk{}

// visitorOf is the clerks' view of a vault person: their identity opened
// only to take the name's first letter and the number's masked form.
func (c webClerk) visitorOf(ctx context.Context, p vault.Person) (web.Visitor, error) {
	name, phone, err := c.s.vault.Reveal(ctx, p.ID)
	if err != nil {
		return web.Visitor{}, err
	}
	wp := webPerson(p)
	return web.Visitor{ID: p.ID, Initial: initial(name), Phone: web.MaskPhone(phone), Registered: p.Created, Cards: wp.Passes}, nil
}

// initial returns the first letter of a name.
func initial(name string) string {
	r, _ := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "?"
	}
	return string(r)
}

func (c webClerk) RegisterVisitor(ctx context.Context, who, name, phone string) (web.Visitor, error) {
	if c.s.vault == nil {
		return web.Visitor{}, c.s.vaultErr
	}
	p, err := c.s.vault.Register(ctx, name, phone)
	if errors.Is(err, store.ErrExists) {
		dup, lerr := c.s.vault.Lookup(ctx, phone)
		if lerr != nil {
			return web.Visitor{}, err
		}
		v, verr := c.visitorOf(ctx, dup)
		if verr != nil {
			return web.Visitor{}, verr
		}
		return v, err
	}
	if errors.Is(err, vault.ErrInvalid) {
		return web.Visitor{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if err != nil {
		return web.Visitor{}, err
	}
	detail, _ := json.Marshal(map[string]any{"person_sha256": sha256Hex(p.ID)})
	e := store.AuditEvent{Time: c.s.now().UTC(), Kind: AuditVisitorRegistered, Who: who, Detail: string(detail)}
	if _, err := c.s.store.AddAudit(ctx, e); err != nil {
		c.s.log.Error("visitor registration not in the audit trail or the ledger", "person", p.ID, "err", err)
	}
	c.s.log.Info("person registered", "person", p.ID, "by", who)
	return c.visitorOf(ctx, p)
}

func (c webClerk) FindVisitor(ctx context.Context, phone string) (web.Visitor, error) {
	if c.s.vault == nil {
		return web.Visitor{}, c.s.vaultErr
	}
	p, err := c.s.vault.Lookup(ctx, phone)
	if errors.Is(err, vault.ErrInvalid) {
		return web.Visitor{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if err != nil {
		return web.Visitor{}, err
	}
	return c.visitorOf(ctx, p)
}

func (c webClerk) Visitor(ctx context.Context, id string) (web.Visitor, error) {
	if c.s.vault == nil {
		return web.Visitor{}, c.s.vaultErr
	}
	p, err := c.s.vault.Person(ctx, id)
	if err != nil {
		return web.Visitor{}, err
	}
	return c.visitorOf(ctx, p)
}

// PrintCard issues a card as POST /v1/persons/{id}/passes does; each
// earlier card it revoked then takes the administration's revocation path
// (webAdmin.RevokeCard: the revocation KV bucket kiosks watch, a
// pass-revoked audit event naming who), and earlier cards revoked before
// are published again, in case that publication failed.
func (c webClerk) PrintCard(ctx context.Context, who, id string) (uint32, []uint32, error) {
	if c.s.vault == nil {
		return 0, nil, c.s.vaultErr
	}
	if who == "" {
		return 0, nil, errors.New("print card: no account to name in the audit trail")
	}
	iss, err := c.s.vault.IssuePass(ctx, id, pass.KindCard, c.s.now())
	if err != nil {
		return 0, nil, fmt.Errorf("print card: %w", err)
	}
	revoked := []uint32{}
	for _, rv := range iss.Revoke {
		if rv.Before {
			if err := c.s.publishCardRevocation(ctx, rv); err != nil {
				return 0, nil, fmt.Errorf("card %d of person %s is issued, but the revocation of card %d did not reach kiosks (print again): %w", iss.Serial, id, rv.Serial, err)
			}
			continue
		}
		if err := (webAdmin{c.s}).RevokeCard(ctx, who, id, rv.Serial); err != nil {
			return 0, nil, fmt.Errorf("card %d of person %s is issued, but: %w", iss.Serial, id, err)
		}
		revoked = append(revoked, rv.Serial)
	}
	detail, _ := json.Marshal(map[string]any{"person_sha256": sha256Hex(id), "serial": iss.Serial, "revoked": revoked})
	e := store.AuditEvent{Time: c.s.now().UTC(), Kind: AuditCardIssued, Who: who, Detail: string(detail)}
	if _, err := c.s.store.AddAudit(ctx, e); err != nil {
		return 0, nil, fmt.Errorf("card %d of person %s is issued, but the audit event is not stored: %w", iss.Serial, id, err)
	}
	c.s.log.Info("card printed", "person", id, "serial", iss.Serial, "revoked_cards", len(revoked), "by", who)
	return iss.Serial, revoked, nil
}

// Card signs the card pass of the serial again: Ed25519 signatures are
// deterministic, so the text is the one IssuePass signed (to the second,
// for the vault's default lifetime, which the central uses).
func (c webClerk) Card(ctx context.Context, id string, serial uint32) (poster.Card, error) {
	if c.s.vault == nil {
		return poster.Card{}, c.s.vaultErr
	}
	p, err := c.s.vault.Person(ctx, id)
	if err != nil {
		return poster.Card{}, err
	}
	i := slices.IndexFunc(p.Cards, func(c store.Card) bool { return c.Serial == serial })
	if i < 0 {
		return poster.Card{}, fmt.Errorf("card %d of person %s: %w", serial, id, store.ErrNotFound)
	}
	if p.Cards[i].Revoked {
		return poster.Card{}, fmt.Errorf("card %d of person %s: %w", serial, id, web.ErrRevoked)
	}
	issued := p.Cards[i].Issued.UTC().Truncate(time.Second)
	pp := pass.Pass{Pseudonym: p.Pseudonym, Kind: pass.KindCard, Serial: serial, Issued: issued, Expires: issued.Add(vault.DefaultPassLifetime)}
	text, err := c.s.keys.Signer().Issue(pp)
	if err != nil {
		return poster.Card{}, fmt.Errorf("card %d of person %s: %w", serial, id, err)
	}
	name, _, err := c.s.vault.Reveal(ctx, id)
	if err != nil {
		return poster.Card{}, err
	}
	return poster.Card{Initial: initial(name), Serial: serial, Pass: text, Issued: pp.Issued, Expires: pp.Expires}, nil
}
