package notify

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// SinkRecord is one line of a FileSink's file.
type SinkRecord struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Message
}

// FileSink is a Sender that appends each message as one JSON line (a
// SinkRecord) to a file, created with mode 0600: it holds phone numbers.
type FileSink struct {
	// Path is the file.
	Path string
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu sync.Mutex
}

var _ Sender = (*FileSink)(nil)

// Send implements Sender: one line written and synced.
func (s *FileSink) Send(ctx context.Context, m Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, fmt.Errorf("notify: file sink: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var id [8]byte
	rand.Read(id[:])
	rec := SinkRecord{ID: "m-" + hex.EncodeToString(id[:]), Time: now().UTC(), Message: m}
	line, err := json.Marshal(rec)
	if err != nil {
		return Receipt{}, fmt.Errorf("notify: file sink: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return Receipt{}, fmt.Errorf("notify: file sink: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("notify: file sink %s: %w", s.Path, err)
	}
	return Receipt{ID: rec.ID, Attempts: 1, Sent: rec.Time}, nil
}

// ReadSink returns the records of a FileSink's file in the order written;
// none when the file does not exist.
func ReadSink(path string) ([]SinkRecord, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notify: read sink: %w", err)
	}
	defer f.Close()
	var out []SinkRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r SinkRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("notify: read sink %s: line %d: %w", path, n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("notify: read sink %s: %w", path, err)
	}
	return out, nil
}
