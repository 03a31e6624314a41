package store

import (
	"context"
	"time"
)

// Case is a case of the investigators' console (central/web): a person
// who tested positive, under a reference of the public health centre (보건소
// 사건번호), listed until an investigator closes it. It holds no personal
// data: who the case is, and how it was traced, are in its traces'
// Params.
type Case struct {
	ID uint64 // assigned by the store, increasing
	// Ref is the public health centre's case reference.
	Ref string
	// Opener is the investigator account who opened it.
	Opener string
	Opened time.Time
	// Closed is when it was closed (zero: open); Closer who closed it.
	Closed time.Time
	Closer string
}

// CaseTrace is a trace saved with its case, so that the console can
// re-open it while its check-ins are kept (28 days).
type CaseTrace struct {
	// ID is the trace's id, unique ("t-" and 16 hex digits).
	ID   string
	Case uint64
	// Who is the account who ran it, Created when.
	Who     string
	Created time.Time
	// Params is how to run it again: opaque bytes to the store (the
	// central's JSON), returned exactly as stored.
	Params []byte
}

// Cases keeps the console's cases and their saved traces.
//
// Besides the contract of [Store]: a case is stored with the traces
// added to it in their order; closing a case keeps it and its traces,
// and closing it again changes nothing. Times keep at least
// microseconds.
type Cases interface {
	// AddCase stores a new case (its ID and Closed are ignored) and
	// returns its id.
	AddCase(ctx context.Context, c Case) (uint64, error)
	// Case returns the case with the id (ErrNotFound).
	Case(ctx context.Context, id uint64) (Case, error)
	// OpenCases returns the cases not closed, newest first.
	OpenCases(ctx context.Context) ([]Case, error)
	// CloseCase closes the case at now by the account who and returns
	// it as it is after: a closed case keeps its first close
	// (ErrNotFound).
	CloseCase(ctx context.Context, id uint64, who string, now time.Time) (Case, error)
	// AddCaseTrace saves a trace of its case: ErrNotFound for an
	// unknown case, ErrExists for a trace id taken.
	AddCaseTrace(ctx context.Context, t CaseTrace) error
	// CaseTraces returns the traces of a case, oldest first (an empty
	// slice for a case without any or an unknown one).
	CaseTraces(ctx context.Context, id uint64) ([]CaseTrace, error)
	// DropCaseTraces deletes the saved traces created before t and
	// returns how many: their Params name the case's pseudonym, so they
	// go with the check-ins they were traced from (retention, 28 days).
	DropCaseTraces(ctx context.Context, before time.Time) (int, error)
}
