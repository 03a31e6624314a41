package checkin

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// Personal is the personal part of a check-in: who scanned. It only ever
// leaves the kiosk sealed to the province's record-sealing key.
type Personal struct {
	Pseudonym [16]byte
	PassKind  uint8 // pass.Kind of the pass shown
	Serial    uint32
}

const personalLen = 1 + 16 + 1 + 4

// SealedLen is the size of a sealed personal part.
const SealedLen = personalLen + box.AnonymousOverhead

// PersonalLen is the size of an encoded personal part.
const PersonalLen = personalLen

// AppendBinary appends the personal part's encoding (version 1, pseudonym,
// pass kind, serial): what is sealed, to the province and later under a
// day key.
func (p *Personal) AppendBinary(b []byte) []byte { return p.appendBinary(b) }

// ParsePersonal decodes what AppendBinary wrote.
func ParsePersonal(b []byte) (Personal, error) {
	if len(b) != personalLen || b[0] != 1 {
		return Personal{}, fmt.Errorf("%w: personal part of %d bytes", ErrMalformed, len(b))
	}
	var p Personal
	copy(p.Pseudonym[:], b[1:17])
	p.PassKind = b[17]
	p.Serial = binary.BigEndian.Uint32(b[18:])
	return p, nil
}

func (p *Personal) appendBinary(b []byte) []byte {
	b = append(b, 1)
	b = append(b, p.Pseudonym[:]...)
	b = append(b, p.PassKind)
	return binary.BigEndian.AppendUint32(b, p.Serial)
}

// ErrOpen means a sealed part could not be opened: wrong key or tampered.
var ErrOpen = errors.New("cannot open sealed personal part")

// Open opens a sealed personal part with the province's sealing key pair.
// It accepts exactly what nacl/box SealAnonymous produces.
func Open(sealed []byte, pub, priv *[32]byte) (Personal, error) {
	var out [personalLen]byte
	msg, ok := box.OpenAnonymous(out[:0], sealed, pub, priv)
	if !ok {
		return Personal{}, ErrOpen
	}
	p, err := ParsePersonal(msg)
	if err != nil {
		return Personal{}, fmt.Errorf("%w: unexpected plaintext layout", ErrOpen)
	}
	return p, nil
}

// Sealer seals personal parts to the province's public sealing key, in the
// nacl/box anonymous sealed-box format (box.SealAnonymous).
//
// The expensive half of a sealed box — a fresh ephemeral X25519 key pair and
// its shared key with the recipient — does not depend on the message, so a
// Sealer computes those ahead of time in a background goroutine. Seal then
// costs one XSalsa20-Poly1305 of 22 bytes, keeping the crypto off a scan's
// critical path. Every ephemeral key is used once.
type Sealer struct {
	recipient *[32]byte
	rand      io.Reader
	ready     chan ephemeral
	cancel    context.CancelFunc
}

type ephemeral struct {
	pub    [32]byte
	shared [32]byte
	nonce  [24]byte
}

// NewSealer starts a Sealer that keeps up to ahead ephemeral keys ready.
// rand nil means crypto/rand. Close stops the background goroutine.
func NewSealer(recipient *[32]byte, ahead int, rnd io.Reader) *Sealer {
	if rnd == nil {
		rnd = rand.Reader
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sealer{recipient: recipient, rand: rnd, ready: make(chan ephemeral, max(ahead, 0)), cancel: cancel}
	if ahead > 0 {
		go s.fill(ctx)
	}
	return s
}

func (s *Sealer) fill(ctx context.Context) {
	for {
		e, err := s.generate()
		if err != nil {
			return // Seal falls back to generating inline and reports the error.
		}
		select {
		case s.ready <- e:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Sealer) generate() (ephemeral, error) {
	var e ephemeral
	var priv [32]byte
	if _, err := io.ReadFull(s.rand, priv[:]); err != nil {
		return e, fmt.Errorf("ephemeral key: %w", err)
	}
	pub, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return e, fmt.Errorf("ephemeral key: %w", err)
	}
	copy(e.pub[:], pub)
	box.Precompute(&e.shared, s.recipient, &priv)
	clear(priv[:])
	h, err := blake2b.New(24, nil)
	if err != nil {
		return e, err
	}
	h.Write(e.pub[:])
	h.Write(s.recipient[:])
	h.Sum(e.nonce[:0])
	return e, nil
}

// Seal returns the sealed personal part.
func (s *Sealer) Seal(p Personal) ([]byte, error) {
	var e ephemeral
	select {
	case e = <-s.ready:
	default:
		var err error
		if e, err = s.generate(); err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
	}
	var msg [personalLen]byte
	out := make([]byte, 32, SealedLen)
	copy(out, e.pub[:])
	out = box.SealAfterPrecomputation(out, p.appendBinary(msg[:0]), &e.nonce, &e.shared)
	clear(e.shared[:])
	return out, nil
}

// Close stops precomputing keys.
func (s *Sealer) Close() { s.cancel() }
