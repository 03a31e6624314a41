// Package trace finds the contacts of a case in the central's check-ins
// (DESIGN.md §8).
//
// # Stays
//
// A stay is [entry, exit] when the person scanned out: the next check-in
// of the same pseudonym at the same venue on the same KST day is an exit.
// Otherwise (no later check-in there that day, or another entry first) it
// is [entry, entry + the venue's default stay]: the venue's DefaultStay,
// or else its category's (Options.Stays overriding the built-in ones), or
// else that of "other". Every stay is bounded to 15 min .. 23:45. An exit
// with no entry before it makes no stay.
//
// # Contacts
//
// A contact is someone whose stay at a venue overlaps a stay of an exposed
// person there by more than nothing: overlap = min(ends) − max(starts) > 0.
// The case is exposed from the start of its window, onset − 2 days (or
// test date − 2 days when asymptomatic), as KST days, to its isolation
// (default: now); a contact is exposed from its exposure (the start of the
// overlap) on, and passes exposure on only through stays that end after it
// (time-respecting paths), up to Request.Until (default: now). Degree 1 are
// the case's contacts, degree n the contacts of degree n−1, up to 4
// (default 2). Each contact is reported once, at its earliest exposure,
// with the path of exposures that led to it.
//
// # Privacy
//
// The engine reads only what it needs: the case's check-ins by their
// per-day tags, the check-ins of the venues the case (then its contacts)
// visited in the windows that matter, opening their sealed pseudonyms
// with the day keys. Results name people by references local to one trace
// ("C1", "C2", …); pseudonyms stay inside the Result (not in its JSON) for
// an audited reveal. Check-ins flagged suspect (see store.Flagged) are
// kept and marked, never dropped.
package trace
