package central

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/anshim/anshim/central/store"
)

// errNoBackup means the store backs itself up with other tools.
var errNoBackup = errors.New("this store is PostgreSQL: back it up with pg_basebackup or pg_dump (README, Backups)")

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

// handleBackup answers GET /v1/backup (admin) with a consistent copy of a
// bbolt store, taken while the central serves; the audit trail records
// who took it. The copy holds what the store holds: check-ins sealed under
// day keys that are not in it, identities sealed under the province's KEK.
func (s *Server) handleBackup(r *http.Request) (any, int, error) {
	b, ok := s.store.(store.Backuper)
	if !ok {
		return map[string]string{"error": errNoBackup.Error()}, http.StatusConflict, nil
	}
	who := accountOf(r.Context()).Name
	detail, _ := json.Marshal(map[string]string{"store": "bolt"})
	if _, err := s.store.AddAudit(r.Context(), store.AuditEvent{Time: s.now().UTC(), Kind: store.AuditStoreBackup, Who: who, Detail: string(detail)}); err != nil {
		return nil, 0, fmt.Errorf("backup: audit: %w", err)
	}
	name := "anshim-central-" + s.now().In(kst).Format("2006-01-02T1504") + ".db"
	return &streamed{contentType: "application/octet-stream", filename: name, write: func(start func(int64) io.Writer) error {
		n, err := b.Backup(r.Context(), start)
		if err == nil {
			s.log.Info("store backed up", "who", who, "bytes", strconv.FormatInt(n, 10))
		}
		return err
	}}, http.StatusOK, nil
}
