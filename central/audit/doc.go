// Package audit is the data audit behind "anshim ledger audit": it checks
// the stored check-ins against the ledger's batch leaves, and the days
// destroyed against their day-destroyed leaves, on a read-only view of
// the store (store.AuditView).
//
// ledger.Verify checks the log itself; deleting rows from the check-in
// table leaves every leaf valid. Run checks the data the leaves commit to:
//
//   - every record a batch leaf's stored lines (ledger.Stored) list is
//     stored, and each line's digest, recomputed from the rows, matches:
//     a record missing, or altered (named through the line's locator when
//     one record of the line was altered, else every record of the line
//     is a candidate);
//   - a batch leaf without stored lines (written before them) is checked
//     on what it has: its sequence range is stored, and the stored record
//     at its last sequence number ends the chain at its head;
//   - every stored record is covered by a leaf (else it is extra);
//   - no record of a destroyed day remains, every day dropped from the
//     store has its day-destroyed leaf, and a destruction leaf's count of
//     check-ins dropped equals the records the leaves before it committed
//     to for that day;
//   - with a verifier, the leaves make the root of the latest signed
//     checkpoint the store keeps.
//
// Findings name the device, sequence number, day and leaf.
package audit
