package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/anshim/anshim/central/store"
)

// ErrNoBackup means the store is backed up with other tools: PostgreSQL's.
var ErrNoBackup = errors.New("this store is PostgreSQL: back it up with pg_basebackup or pg_dump (README, Backups)")

// CanBackup reports whether Backup works for this central's store.
func (s *Server) CanBackup() bool {
	_, ok := s.store.(store.Backuper)
	return ok
}

// Backup writes a consistent copy of a bbolt store, taken while the
// central serves, for the account who: it writes a store-backup audit
// event, calls start with the copy's size and writes the copy to the
// writer start returns. ErrNoBackup for a PostgreSQL store. The copy holds
// what the store holds: check-ins sealed under day keys that are not in
// it, identities sealed under the province's KEK.
func (s *Server) Backup(ctx context.Context, who string, start func(size int64) io.Writer) (int64, error) {
	b, ok := s.store.(store.Backuper)
	if !ok {
		return 0, ErrNoBackup
	}
	detail, _ := json.Marshal(map[string]string{"store": "bolt"})
	if _, err := s.store.AddAudit(ctx, store.AuditEvent{Time: s.now().UTC(), Kind: store.AuditStoreBackup, Who: who, Detail: string(detail)}); err != nil {
		return 0, fmt.Errorf("backup: audit: %w", err)
	}
	n, err := b.Backup(ctx, start)
	if err != nil {
		return n, err
	}
	s.log.Info("store backed up", "who", who, "bytes", n)
	return n, nil
}

// streamed is an API answer written as it is made, not as JSON: the api
// wrapper calls write, which calls start with the body's length (-1:
// unknown) to send the headers and get the writer. An error before start
// is answered 500; after it, the status can no longer change: the
// connection is cut, so that the client sees a truncated transfer (short
// of its Content-Length), not a short file.
type streamed struct {
	contentType, filename string
	write                 func(start func(size int64) io.Writer) error
}

func (st *streamed) serve(w http.ResponseWriter, code int, log *slog.Logger) {
	started := false
	start := func(size int64) io.Writer {
		w.Header().Set("Content-Type", st.contentType)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", `attachment; filename="`+st.filename+`"`)
		if size >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
		w.WriteHeader(code)
		started = true
		return w
	}
	if err := st.write(start); err != nil {
		log.Error("HTTP response failed", "file", st.filename, "err", err)
		if !started {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error": "internal error (see the central's log)"}` + "\n"))
			return
		}
		panic(http.ErrAbortHandler)
	}
}

// handleBackup answers GET /v1/backup (admin) with Backup's copy; 409 for
// a PostgreSQL store.
func (s *Server) handleBackup(r *http.Request) (any, int, error) {
	if !s.CanBackup() {
		return map[string]string{"error": ErrNoBackup.Error()}, http.StatusConflict, nil
	}
	who := accountOf(r.Context()).Name
	return &streamed{contentType: "application/octet-stream", filename: store.BackupName(s.now()), write: func(start func(int64) io.Writer) error {
		_, err := s.Backup(r.Context(), who, start)
		return err
	}}, http.StatusOK, nil
}
