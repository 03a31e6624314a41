// Package ledgerstore is the ledger (package ledger) over the central's
// store (central/store): the hash reader of the store's tree, the
// Checkpointer that signs it, receipts proved from it, and the leaves of
// what the store keeps (an audit event, a batch's check-ins). Package
// ledger itself knows no store, so that the kiosk, which verifies
// receipts and checkpoints, links nothing of the central.
package ledgerstore
