package ledger

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Every is how often the central signs a checkpoint while leaves arrive:
// a leaf waits at most this long for a checkpoint, and so for its receipt.
const Every = 10 * time.Second

// Checkpoint is a tree head: the body of a C2SP tlog-checkpoint note,
//
//	<origin>
//	<size>
//	<base64 root hash>
//
// The origin is the name of the province's ledger key. Anshim's
// checkpoints carry no extension lines.
type Checkpoint struct {
	Origin string
	Size   int64
	Hash   tlog.Hash
}

// Text returns the checkpoint's body, the text that is signed.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]))
}

// ParseCheckpoint parses a checkpoint body. It accepts only the canonical
// text: ParseCheckpoint(c.Text()) gives c, and nothing else parses.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	bad := func(format string, args ...any) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("ledger: checkpoint: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	s, ok := strings.CutSuffix(string(text), "\n")
	if !ok {
		return bad("no final newline")
	}
	lines := strings.Split(s, "\n")
	if len(lines) != 3 {
		return bad("%d lines, want 3 (origin, size, root hash)", len(lines))
	}
	c := Checkpoint{Origin: lines[0]}
	if !word(c.Origin) {
		return bad("origin %q", c.Origin)
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 {
		return bad("size %q", lines[1])
	}
	c.Size = n
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return bad("root hash %q", lines[2])
	}
	copy(c.Hash[:], h)
	if string(c.Text()) != string(text) {
		return bad("not in canonical form")
	}
	return c, nil
}

// Sign returns the signed note of c. c.Origin is set to the signer's name
// when empty, and must be it otherwise.
func Sign(c Checkpoint, signer note.Signer) ([]byte, error) {
	if c.Origin == "" {
		c.Origin = signer.Name()
	}
	if c.Origin != signer.Name() {
		return nil, fmt.Errorf("ledger: sign checkpoint of %q with the key of %q", c.Origin, signer.Name())
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, signer)
	if err != nil {
		return nil, fmt.Errorf("ledger: sign checkpoint: %w", err)
	}
	return msg, nil
}

// ErrBadSignature: a checkpoint not signed by the ledger key.
var ErrBadSignature = errors.New("checkpoint not signed by the ledger key")

// Open verifies a signed checkpoint with the ledger key's verifier and
// returns it. Its origin must be the key's name.
func Open(msg []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: %w: %v", ErrBadSignature, err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("ledger: checkpoint of log %q, want %q", c.Origin, v.Name())
	}
	return c, nil
}
