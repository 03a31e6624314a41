// Package ledger is Anshim's transparency log: the sound version of the
// "blockchain". It is a Merkle tree of golang.org/x/mod/sumdb/tlog whose
// leaves commit to what the central stored and did, and whose signed
// checkpoints (C2SP tlog-checkpoint notes) let anyone holding the
// province's ledger verifier key check that the central shows everybody
// the same history and never rewrites it.
//
// # Leaves
//
// A leaf is a short versioned text (see leaf.go) committing to one event,
// never holding personal data:
//
//   - a kiosk batch: device, sequence range, chain head, SHA-256 of the
//     batch as received;
//   - an audit event of the central: a day's keys
//     destroyed, identities revealed to an investigator (who, case
//     reference, when, how many), a registry change.
//
// The central's store appends a batch's leaf in the transaction that
// stores the batch's records, and an audit event's leaf in the
// transaction that stores the event: there is no leaf without its data and
// no data without its leaf, also across a crash.
//
// # Checkpoints
//
// The central signs the tree at least every 10 seconds ([Every]) while
// leaves arrive (central/ledgerstore's Checkpointer). A checkpoint is the C2SP tlog-checkpoint text
//
//	<origin>
//	<tree size>
//	<base64 root hash>
//
// signed as a note by the province's ledger key; the origin is the key's
// name.
//
// # Auditing
//
// Verify downloads every leaf, recomputes the tree, checks the signed
// checkpoint against it and checks that an earlier checkpoint (kept by the
// auditor) is a prefix of it. A Receipt proves one leaf's inclusion
// offline (tlog.CheckRecord).
//
// # Dependencies
//
// The package imports only the standard library and golang.org/x/mod: a
// kiosk verifies receipts and checkpoints with it and links nothing of the
// central. What reads the central's store (its hash reader, the
// Checkpointer, Prove, the leaves of stored rows) is central/ledgerstore;
// stored check-ins reach the ledger as [StoredRecord] values.
package ledger
