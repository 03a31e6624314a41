package wire

import (
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
)

// Bounds of the ledger's messages.
const (
	// MaxGossipBytes bounds a Gossip value; larger ones are ignored.
	MaxGossipBytes = 16 << 10
	// MaxEvidenceBytes bounds an Evidence report (and a receipt); the
	// central refuses larger ones.
	MaxEvidenceBytes = 32 << 10
)

// ReceiptRequest asks for the receipt of the batch that stored a
// device's record seq (on [SubjectReceiptRequest]).
type ReceiptRequest struct {
	Device string `json:"device"`
	Seq    uint64 `json:"seq"`
}

// ConsistencyRequest asks for the proof that the tree of size Old is a
// prefix of the tree of size New, 1 ≤ Old ≤ New (on
// [SubjectConsistencyRequest]).
type ConsistencyRequest struct {
	Old int64 `json:"old"`
	New int64 `json:"new"`
}

// LedgerReply is the central's answer to a ledger request or an alert.
type LedgerReply struct {
	// Error is set when the request failed; Retry then says it may
	// succeed later (the batch is not in a signed checkpoint yet).
	Error   string          `json:"error,omitempty"`
	Retry   bool            `json:"retry,omitempty"`
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
	Proof   *ledger.Proof   `json:"proof,omitempty"`
	// Checkpoint is the latest signed checkpoint (a note).
	Checkpoint string `json:"checkpoint,omitempty"`
	OK         bool   `json:"ok,omitempty"` // an alert was received
}

// Evidence kinds.
const (
	// KindFork: two checkpoints signed by the ledger key that cannot both
	// be true (same size and different roots, a consistency proof that
	// fails, or one the central refuses to give).
	KindFork = "fork"
	// KindReceipt: a receipt, signed and included, for a batch of this
	// device that the device did not send (another sequence range, chain
	// head or batch hash).
	KindReceipt = "receipt"
)

// Evidence is what a kiosk keeps, and reports on its [AlertSubject], of a
// ledger fork: two checkpoints signed by the ledger key that cannot both
// be true (Kind "fork", the default), or a receipt for a batch it did not
// send (Kind "receipt").
type Evidence struct {
	Kind     string    `json:"kind,omitempty"`
	Device   string    `json:"device"`
	Detected time.Time `json:"detected"`
	Reason   string    `json:"reason"`
	// Old and New are the signed checkpoints (notes), Old the smaller (or
	// the one seen first at the same size).
	Old string `json:"old"`
	New string `json:"new"`
	// Proof is the consistency proof Old → New the central gave, which
	// does not verify (none for two roots of one size).
	Proof []tlog.Hash `json:"proof,omitempty"`
	// Receipt is the disowned receipt (Kind "receipt").
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
}

// Gossip is a kiosk's value in [BucketWitness]: its latest signed
// checkpoint and its most recent fork evidence, for every other kiosk to
// check against its own.
type Gossip struct {
	Checkpoint string     `json:"checkpoint"`
	Forks      []Evidence `json:"forks,omitempty"`
}
