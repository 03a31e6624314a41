package store

import (
	"context"
	"io"
	"time"
)

// Backuper is a store that writes a consistent copy of itself while it
// serves: a bbolt store writes its file as one read transaction sees it,
// which opens as a store of its own. A PostgreSQL store is backed up with
// PostgreSQL's tools (pg_basebackup, pg_dump) and is no Backuper.
type Backuper interface {
	// Backup calls start with the copy's size once it is known, writes
	// the copy to the writer start returns, and returns the size. It
	// stops with ctx's error when ctx ends; what it wrote is then no
	// store.
	Backup(ctx context.Context, start func(size int64) io.Writer) (int64, error)
}

// AuditStoreBackup is the kind of the audit event of a backup taken
// through the central: detail {"bytes": N}.
const AuditStoreBackup = "store-backup"

// BackupName is the file name a backup taken at t is offered under: the
// KST minute, "anshim-central-2026-12-06T1815.db".
func BackupName(t time.Time) string {
	return "anshim-central-" + t.In(time.FixedZone("KST", 9*3600)).Format("2006-01-02T1504") + ".db"
}
