// Package trace finds the contacts of a case in the central's check-ins
// (docs/design.md).
//
// # Stays
//
// A stay is [entry, exit] when the person scanned out: an entry's stay
// ends at the same pseudonym's next check-in at the same venue when that
// is an exit less than 24 hours later (ExitHorizon), on the same KST day
// or after midnight — a bathhouse's (찜질방) night, a PC room's, a bar's.
// Otherwise (no later check-in there within 24 hours, or another entry
// first) it is [entry, entry + the venue's default stay]: the venue's
// DefaultStay, or else its category's (Options.Stays overriding the
// built-in ones), or else that of "other". Every stay is bounded to
// 15 min .. 23:45. An exit with no entry before it makes no stay.
//
// The pseudonym is stored per day as a tag HMAC(day key, pseudonym), so a
// person's check-ins of two days do not link by tag. The engine reads a
// person's own check-ins day by day with each day's tag, and among a
// venue's check-ins it joins a day's tag group ending with an entry to
// the next day's group starting with an exit when opening that exit and
// computing the person's tag of the day before finds it.
//
// # Contacts and degrees
//
// A contact is someone whose stay at a venue overlaps a stay of an exposed
// person there by more than nothing: overlap = min(ends) − max(starts) > 0.
// The case is exposed from the start of its window, onset − 2 days (or
// test date − 2 days when asymptomatic), as KST days, to its isolation
// (default: now); a case stay crossing the window's start counts from the
// start. A contact is exposed from its exposure (the start of the overlap)
// on, and passes exposure on only through stays that end after it
// (time-respecting paths), up to Request.Until (default: now).
//
// A contact's degree is the fewest hops of any time-respecting path from
// the case; the exposure reported (venue, time, overlap, source and path)
// is the earliest along a path of that many hops. Onward spread from a
// person at degree k uses their earliest exposure over all paths of at
// most k−1 hops, which may be earlier than the one reported: nobody
// reachable in k hops is missed, and nobody is reported at a higher degree
// than their shortest chain. Degrees go up to 4 (default 2). Each contact
// is reported once, with the path of exposures that led to it.
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
